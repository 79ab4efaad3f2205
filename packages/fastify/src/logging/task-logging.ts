import type { Clock, Scheduler, TaskHandle } from '@fastify-tasks/core'
import type { FastifyBaseLogger } from 'fastify'
import { LogLimiter } from './log-limiter.js'
import { loggableError } from './loggable-error.js'
import { markLate } from '../tasks/task-context.js'

/** The logger a task was spawned with (its request's, or the app's). */
function loggerOf(data: unknown, fallback: FastifyBaseLogger): FastifyBaseLogger {
  return (data as FastifyBaseLogger | undefined) ?? fallback
}

/** `Name: message` of any value a task failed with (never throws). */
function errorLine(value: unknown): string {
  const error = loggableError(value) as Error
  return `${error.name}: ${error.message}`
}

/** What every line about one task carries: its id, name, spawn site and the `meta` it was spawned with. */
function taskFields(task: TaskHandle): Record<string, unknown> {
  const fields: Record<string, unknown> = { taskId: task.id, task: task.name, site: task.site, meta: task.meta }
  if (task.attempt > 1) fields['attempt'] = task.attempt
  return fields
}

/**
 * Logs what needs a person's attention, through the logger of the request that spawned the task
 * (so the line carries its request id): failures, failed attempts that will be retried, deadlines exceeded, leaks, tasks released from
 * the given-up set, and refusals of `trySpawn` (a refusal of `spawn` is thrown to its caller instead).
 * Successes are not logged.
 *
 * Lines are rate-limited per task name and kind: the first of each `interval` is written in full
 * (with the error's stack), the rest are counted into one summary line at the end of the interval.
 * Intervals run on `clock` (the scheduler's). Returns the function that unsubscribes and writes the
 * summaries still owed.
 */
export function logTaskProblems(scheduler: Scheduler, fallback: FastifyBaseLogger, interval: number, clock?: Clock): () => void {
  const limiter = new LogLimiter(interval, clock)
  const heldBack = (suppressed: number): Record<string, unknown> => ({ suppressed, intervalMs: interval })
  const logEviction = (task: TaskHandle): void => {
    const log = loggerOf(task.data, fallback)
    const fields = (): Record<string, unknown> => ({ ...taskFields(task), abortReason: task.abortReason, leaked: task.leaked })
    const text =
      'given-up tasks of this name reached their cap (maxGivenUpPerName or maxGivenUp): the oldest, which never settled, was released from tracking'
    limiter.log(
      `evicted\u0000${task.name}`,
      () => log.warn(fields(), text),
      (n) => log.warn({ ...heldBack(n), ...fields() }, `${text}; ${n} more of this task since the last such line`),
    )
  }
  const unsubscribe = scheduler.subscribe({
    settled(task, settlement, durationMs) {
      if (task.release !== undefined) markLate(task)
      if (task.release === 'evicted') return logEviction(task)
      if (settlement.outcome !== 'failed') return
      const log = loggerOf(task.data, fallback)
      const duration = durationMs === null ? null : Math.round(durationMs)
      limiter.log(
        `failed\u0000${task.name}`,
        () => log.error({ err: loggableError(settlement.error), ...taskFields(task), durationMs: duration }, 'background task failed'),
        (n) =>
          log.error(
            { ...heldBack(n), lastError: errorLine(settlement.error), ...taskFields(task), durationMs: duration },
            `background task failed, and ${n} more of this task since the last such line (not logged one by one)`,
          ),
      )
    },
    retrying(task, error, delayMs) {
      const log = loggerOf(task.data, fallback)
      // `attempt` is already the next one: the line is about the attempt that failed.
      const fields = (): Record<string, unknown> => ({ ...taskFields(task), attempt: task.attempt - 1, retryInMs: Math.round(delayMs) })
      limiter.log(
        `retrying\u0000${task.name}`,
        () => log.warn({ err: loggableError(error), ...fields() }, 'background task attempt failed; it will be retried'),
        (n) =>
          log.warn(
            { ...heldBack(n), lastError: errorLine(error), ...fields() },
            `background task attempt failed and will be retried, and ${n} more of this task since the last such line`,
          ),
      )
    },
    aborted(task, reason) {
      if (reason !== 'timeout') return
      const log = loggerOf(task.data, fallback)
      const fields = (): Record<string, unknown> => ({ ...taskFields(task), timeoutMs: task.timeout })
      limiter.log(
        `timeout\u0000${task.name}`,
        () => log.warn(fields(), 'background task exceeded its deadline; its signal was aborted'),
        (n) =>
          log.warn(
            { ...heldBack(n), ...fields() },
            `background task exceeded its deadline, and ${n} more of this task since the last such line`,
          ),
      )
    },
    leaked(task) {
      // At shutdown the drain logs leaked tasks per group.
      if (scheduler.closing) return
      const log = loggerOf(task.data, fallback)
      const fields = (): Record<string, unknown> => ({ ...taskFields(task), abortReason: task.abortReason })
      const text =
        'background task ignores its abort signal (leaked): it holds no concurrency slot and stays tracked until it settles or is released'
      limiter.log(
        `leaked\u0000${task.name}`,
        () => log.error(fields(), text),
        (n) => log.error({ ...heldBack(n), ...fields() }, `${text}; ${n} more of this task since the last such line`),
      )
    },
    hung(task) {
      if (scheduler.closing) return
      const log = loggerOf(task.data, fallback)
      const fields = (): Record<string, unknown> => ({ ...taskFields(task), abortReason: task.abortReason, hung: true })
      const text =
        'background task proven hung: the garbage collector collected the promise its function returned, so nothing can ever settle it (an awaited promise whose resolve and reject nothing holds)'
      limiter.log(
        `hung\u0000${task.name}`,
        () => log.error(fields(), text),
        (n) => log.error({ ...heldBack(n), ...fields() }, `${text}; ${n} more of this task since the last such line`),
      )
    },
    rejected(spawn) {
      if (spawn.thrown) return
      const log = loggerOf(spawn.data, fallback)
      const fields = (): Record<string, unknown> => ({
        task: spawn.name,
        reason: spawn.error.reason,
        priority: spawn.priority,
        meta: spawn.meta,
      })
      limiter.log(
        `refused\u0000${spawn.error.reason}\u0000${spawn.name}`,
        () => log.warn(fields(), `background task refused (${spawn.error.reason}); trySpawn returned undefined`),
        (n) =>
          log.warn(
            { ...heldBack(n), ...fields() },
            `background task refused (${spawn.error.reason}), and ${n} more of this task since the last such line`,
          ),
      )
    },
  })
  return () => {
    unsubscribe()
    limiter.close()
  }
}
