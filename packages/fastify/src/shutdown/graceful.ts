import { InvalidOptionError, type CloseReport } from '@fastify-tasks/core'
import { checkDuration } from '@fastify-tasks/core/validation'
import closeWithGrace from 'close-with-grace'
import type { FastifyInstance, FastifyListenOptions } from 'fastify'
import { ForwardedSignals } from './forwarded-signals.js'
import { resolveRecycleOptions, RecycleWatch, type RecycleOptions, type RecycleTrigger } from './recycle.js'

/** Exit codes of a process closed by {@link listenGracefully}. */
export const EXIT_CODES = {
  /** Closed, and every background task finished on its own. */
  drained: 0,
  /** Closing failed, timed out, or was forced by a second signal; or the process was closing after an error. */
  failed: 1,
  /** Closed, but some background tasks were abandoned (dropped, aborted or unsettled); they were logged by name. */
  abandoned: 2,
  /**
   * Recycled (`recycle`): memory or leaked tasks stayed above a threshold, so the process drained and
   * exited on purpose, for the orchestrator to start a fresh one. The leak report was logged first.
   */
  recycled: 3,
} as const

/** Options of {@link listenGracefully}. */
export interface GracefulOptions {
  /** Passed to `app.listen`. @default { port: 3000, host: '127.0.0.1' } */
  listen?: FastifyListenOptions
  /**
   * Drain budget in ms when an orchestrator asks the process to stop (SIGTERM, or any way other than
   * SIGINT). @default the plugin's `drainTimeout`
   */
  drainTimeout?: number
  /**
   * Drain budget in ms on SIGINT: a person at a terminal wants it to stop soon.
   * @default the smaller of 2 000 and `drainTimeout`
   */
  interruptDrainTimeout?: number
  /**
   * Milliseconds allowed for the rest of the close sequence (other plugins' `onClose` hooks) on top of
   * the drain and the abort grace, before the process is killed.
   * @default 2_000
   */
  closeMargin?: number
  /**
   * A repeat of the first SIGINT or SIGTERM within this many ms is the same request delivered twice
   * (a process manager forwarding the terminal's Ctrl-C), and is ignored; a later one forces the exit.
   * Measured on the plugin's `clock`. `0`: every second signal forces the exit.
   * @default 500
   */
  duplicateSignalWindow?: number
  /**
   * The last line of defence against a leak, off by default: when the resident set size, the heap in
   * use or the leaked tasks stay above a threshold for `window`, log the leak report, drain (with the
   * SIGTERM budget) and exit with {@link EXIT_CODES}`.recycled` (3), for the orchestrator to restart
   * the instance. Celery's `max_memory_per_child`, for a Fastify service.
   */
  recycle?: RecycleOptions
}

/** What {@link listenGracefully} resolves with. */
export interface GracefulServer {
  /** The address the server listens on, e.g. `http://127.0.0.1:3000`. */
  readonly address: string
  /**
   * The kill deadline close-with-grace was given: drain budget + abort grace + close margin, in ms.
   * An orchestrator's own grace period (Kubernetes' `terminationGracePeriodSeconds`) must exceed it.
   */
  readonly killAfterMs: number
  /** The drain budgets in effect, in ms: `terminate` for SIGTERM and the other ways to close, `interrupt` for SIGINT (Ctrl-C). */
  readonly drainTimeouts: { readonly terminate: number; readonly interrupt: number }
  /** Closes as a signal would (with the SIGTERM budget), then exits. */
  close(): void
}

/** The signals a process manager forwards from the terminal, handled with duplicate detection. */
const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM'] as const satisfies readonly NodeJS.Signals[]

/**
 * Listens, and closes gracefully on SIGTERM, SIGINT, an uncaught exception or an unhandled
 * rejection, using close-with-grace: intake stops, in-flight requests finish, background tasks
 * drain within the budget for that signal, the rest are aborted and reported by name, and the
 * process exits with a code that says whether everything drained ({@link EXIT_CODES}). A second
 * signal forces the exit; a repeat within `duplicateSignalWindow` (500 ms) of the first is not one:
 * it is the same Ctrl-C forwarded by a process manager (`npm start`, `pnpm run`), and is ignored. The
 * plugin itself never installs signal handlers; call this from your entrypoint (`server.ts`), after
 * building the app.
 */
export async function listenGracefully(app: FastifyInstance, options: GracefulOptions = {}): Promise<GracefulServer> {
  if (!app.hasDecorator('tasks')) {
    throw new InvalidOptionError('listenGracefully(app)', 'a Fastify instance with fastify-tasks registered', app)
  }
  const drainTimeout =
    options.drainTimeout === undefined
      ? app.tasks.drainTimeout
      : checkDuration('listenGracefully(options.drainTimeout)', options.drainTimeout)
  const interruptDrainTimeout =
    options.interruptDrainTimeout === undefined
      ? Math.min(2_000, drainTimeout)
      : checkDuration('listenGracefully(options.interruptDrainTimeout)', options.interruptDrainTimeout)
  const closeMargin =
    options.closeMargin === undefined ? 2_000 : checkDuration('listenGracefully(options.closeMargin)', options.closeMargin)
  const duplicateSignalWindow =
    options.duplicateSignalWindow === undefined
      ? 500
      : checkDuration('listenGracefully(options.duplicateSignalWindow)', options.duplicateSignalWindow)
  const recycle = options.recycle === undefined ? undefined : resolveRecycleOptions(options.recycle)
  const exit = (code: number): never => process.exit(code)
  const abortGrace = app.tasks.summary().limits.abortGrace
  const killAfterMs = Math.max(drainTimeout, interruptDrainTimeout) + abortGrace + closeMargin

  const address = await app.listen(options.listen ?? { port: 3000, host: '127.0.0.1' })

  // SIGINT and SIGTERM are handled here, not by close-with-grace, which would count a forwarded copy
  // of the first as a second signal (see ForwardedSignals).
  const signals = new ForwardedSignals(app.tasks.eventLoop.clock, duplicateSignalWindow)
  const onSignal = (signal: NodeJS.Signals): void => {
    const { verdict, afterMs } = signals.receive(signal)
    if (verdict === 'close') {
      void grace.close()
    } else if (verdict === 'duplicate') {
      app.log.debug({ signal, afterMs: Math.round(afterMs) }, 'duplicate signal ignored (forwarded by a process manager)')
    } else {
      app.log.error({ signal }, 'second signal while closing: exiting now')
      exit(EXIT_CODES.failed)
    }
  }
  for (const signal of FORWARDED_SIGNALS) process.on(signal, onSignal)

  let recycled: RecycleTrigger | undefined
  // Made once listening (below); stopped when the close begins, whatever began it.
  let watch: RecycleWatch | undefined
  const grace = closeWithGrace(
    {
      delay: killAfterMs,
      logger: false,
      skip: [...FORWARDED_SIGNALS],
      onSecondSignal(signal) {
        app.log.error({ signal }, 'second signal while closing: exiting now')
        exit(EXIT_CODES.failed)
      },
      onTimeout(delay) {
        app.log.error({ killAfterMs: delay }, 'close did not finish in time: exiting now')
        exit(EXIT_CODES.failed)
      },
    },
    async ({ signal: otherSignal, err, manual }) => {
      watch?.stop()
      const signal = otherSignal ?? signals.first
      const budget = signal === 'SIGINT' ? interruptDrainTimeout : drainTimeout
      if (err !== undefined) app.log.error({ err }, 'closing after an uncaught error')
      const reason = signal ?? (manual === true ? 'manual' : err !== undefined ? 'error' : 'event_loop_empty')
      if (app.tasks.closing) {
        // The app was closed some other way (app.close() called directly): report how that went.
        app.log.info({ reason }, 'already closed')
      } else {
        app.log.info({ signal: reason, drainTimeoutMs: budget, killAfterMs }, 'closing')
        app.tasks.drainTimeout = budget
        try {
          await app.close()
        } catch (error) {
          app.log.error({ err: error }, 'close failed')
          exit(EXIT_CODES.failed)
        }
      }
      const report: CloseReport = await app.tasks.close()
      if (recycled !== undefined && err === undefined) exit(EXIT_CODES.recycled)
      // close-with-grace exits with 0 once this resolves (1 after an error): say more when tasks were lost.
      if (err === undefined && !report.clean) exit(EXIT_CODES.abandoned)
    },
  )

  if (recycle !== undefined) {
    watch = new RecycleWatch(
      app.tasks.eventLoop.clock,
      () => {
        const memory = process.memoryUsage()
        return { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, leaked: app.tasks.summary().leaked.live }
      },
      recycle,
      (trigger) => {
        // Closed some other way meanwhile: nothing to recycle.
        if (app.tasks.closing) return
        recycled = trigger
        // The leak report first: once the process is gone, it is the only record of what leaked.
        app.log.error({ leaks: leakReport(app) }, 'leak report before recycling')
        app.log.error(
          { ...trigger, windowMs: recycle.window, exitCode: EXIT_CODES.recycled },
          `recycling: ${trigger.figure} stayed above ${trigger.threshold} for ${recycle.window} ms; draining, then exiting for the orchestrator to restart this instance`,
        )
        grace.close()
      },
    )
  }

  return {
    address,
    killAfterMs,
    drainTimeouts: Object.freeze({ terminate: drainTimeout, interrupt: interruptDrainTimeout }),
    close: () => grace.close(),
  }
}

/** The live tasks given up on (leaked, hung, or aborting), by group: what a recycle leaves behind. At most 20 groups. */
function leakReport(app: FastifyInstance): Record<string, unknown>[] {
  return app.tasks
    .groups()
    .filter((g) => g.state === 'aborting' || g.leaked > 0)
    .slice(0, 20)
    .map((g) => ({
      task: g.name,
      count: g.count,
      leaked: g.leaked,
      hung: g.hung,
      oldestAgeMs: Math.round(g.oldestAgeMs),
      site: g.site,
      labels: g.labels,
    }))
}
