import { DEFAULTS, type SchedulerOptions } from '@fastify-tasks/core'
import { checkDuration, checkKnownKeys, checkObject, checkObjectOrFalse } from '@fastify-tasks/core/validation'
import type { BackpressureOptions } from './backpressure/backpressure.js'
import type { DebugRoutesOptions } from './debug/routes.js'
import type { EventLoopOptions } from './backpressure/event-loop-monitor.js'
import type { MetricsOptions } from './metrics/task-metrics.js'

/** Options of the fastify-tasks plugin: every scheduler option, plus the plugin's own. */
export interface FastifyTasksOptions extends SchedulerOptions {
  /**
   * Milliseconds the drain on close lets queued and running tasks finish before aborting the rest
   * with reason `shutdown` (who then get `abortGrace` more to settle).
   * @default 10_000
   */
  drainTimeout?: number
  /**
   * Milliseconds over which the plugin's log lines about tasks are rate-limited, per task name and
   * kind (failed, deadline exceeded, leaked, released, refused): the first line of each interval is
   * written in full (with the error's stack), the others are counted into one summary line with a
   * `suppressed` count at the end of the interval. `0` writes every line.
   * @default 10_000
   */
  logInterval?: number
  /**
   * The `/debug/tasks` routes (see `debugRoutes`): their options, or `false` to leave them out (then
   * register `debugRoutes` yourself, under a prefix or behind your own hooks).
   * @default {} (loopback peers only, no cancellation)
   */
  debug?: DebugRoutesOptions | false
  /** How event-loop health is measured and when the process counts as overloaded. */
  eventLoop?: EventLoopOptions
  /**
   * Prometheus metrics and the `/metrics` route: their options, or `false` for none.
   * @default {} (own registry, route at /metrics)
   */
  metrics?: MetricsOptions | false
  /**
   * What happens when the event loop is overloaded: 503 for ordinary routes, shedding (or deferring)
   * background work below a priority, adaptive concurrency; or `false` for none of it.
   * @default {}
   */
  backpressure?: BackpressureOptions | false
}

export const DEFAULT_DRAIN_TIMEOUT = 10_000
export const DEFAULT_LOG_INTERVAL = 10_000

/** The longest delay Node's timers take (2^31 - 1 ms); a longer one fires at once. */
const MAX_TIMER_DELAY = 2_147_483_647

/** The scheduler's options that have no default (the others are the keys of its `DEFAULTS`). */
const SCHEDULER_KEYS_WITHOUT_DEFAULT = [
  'limits',
  'siteIgnore',
  'admission',
  'startGate',
  'clock',
  'onListenerError',
  'tasks',
  'compileSchema',
  'backend',
] as const satisfies readonly (keyof SchedulerOptions)[]
/**
 * The scheduler's options, passed on to it. Listed here so that an unknown key is refused with the
 * plugin's options listed too. An option the scheduler gains with a default is picked up from
 * `DEFAULTS`; one without a default makes the check below fail to compile until it is added above.
 */
const SCHEDULER_KEYS: readonly string[] = [...Object.keys(DEFAULTS), ...SCHEDULER_KEYS_WITHOUT_DEFAULT]
type UnlistedSchedulerKey = Exclude<keyof SchedulerOptions, keyof typeof DEFAULTS | (typeof SCHEDULER_KEYS_WITHOUT_DEFAULT)[number]>
const _everySchedulerKeyListed: [UnlistedSchedulerKey] extends [never] ? true : UnlistedSchedulerKey = true

/** The plugin's own options, next to the scheduler's. */
const PLUGIN_KEYS = [
  'drainTimeout',
  'logInterval',
  'debug',
  'eventLoop',
  'metrics',
  'backpressure',
] as const satisfies readonly (keyof FastifyTasksOptions)[]

/** Every top-level option, as listed in the error for an unknown one. */
const KNOWN_OPTIONS: readonly string[] = [...SCHEDULER_KEYS, ...PLUGIN_KEYS]
const SCHEDULER_KEY_SET = new Set<string>(SCHEDULER_KEYS)

/** Plugin options split between the scheduler and the plugin's own parts. */
export interface SplitOptions {
  scheduler: SchedulerOptions
  drainTimeout: number
  logInterval: number
  debug: DebugRoutesOptions | false
  eventLoop: EventLoopOptions
  metrics: MetricsOptions | false
  backpressure: BackpressureOptions | false
}

/** Splits plugin options into the scheduler's and the plugin's own, validating the latter. */
export function splitOptions(options: unknown): SplitOptions {
  if (options === undefined)
    return {
      scheduler: {},
      drainTimeout: DEFAULT_DRAIN_TIMEOUT,
      logInterval: DEFAULT_LOG_INTERVAL,
      debug: {},
      eventLoop: {},
      metrics: {},
      backpressure: {},
    }
  // The keys Fastify itself reads from `register` options are not ours to validate, nor to list.
  const { prefix: _prefix, logLevel: _logLevel, logSerializers: _logSerializers, ...own } = checkObject('options', options)
  // Before the scheduler sees them: its own error would list only its keys, never the plugin's.
  checkKnownKeys('options', own, KNOWN_OPTIONS)
  const scheduler: Record<string, unknown> = {}
  let drainTimeout = DEFAULT_DRAIN_TIMEOUT
  let logInterval = DEFAULT_LOG_INTERVAL
  let debug: DebugRoutesOptions | false = {}
  let eventLoop: EventLoopOptions = {}
  let metrics: MetricsOptions | false = {}
  let backpressure: BackpressureOptions | false = {}
  for (const [key, value] of Object.entries(own)) {
    if (value === undefined) continue
    if (key === 'drainTimeout') drainTimeout = checkDuration('drainTimeout', value)
    else if (key === 'logInterval') logInterval = checkDuration('logInterval', value, { max: MAX_TIMER_DELAY })
    else if (key === 'debug') debug = checkObjectOrFalse('debug', value)
    else if (key === 'eventLoop') eventLoop = checkObject('eventLoop', value)
    else if (key === 'metrics') metrics = checkObjectOrFalse('metrics', value)
    else if (key === 'backpressure') backpressure = checkObjectOrFalse('backpressure', value)
    else if (SCHEDULER_KEY_SET.has(key)) scheduler[key] = value
  }
  return { scheduler, drainTimeout, logInterval, debug, eventLoop, metrics, backpressure }
}
