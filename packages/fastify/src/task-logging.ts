import type { Scheduler, TaskHandle } from '@fastify-tasks/core'
import type { FastifyBaseLogger } from 'fastify'

/** The logger a task was spawned with (its request's, or the app's). */
function loggerOf(task: TaskHandle, fallback: FastifyBaseLogger): FastifyBaseLogger {
  return (task.data as FastifyBaseLogger | undefined) ?? fallback
}

/**
 * Logs what needs a person's attention, through the logger of the request that spawned the task
 * (so the line carries its request id): failures, deadlines exceeded, leaks. Successes are not
 * logged. Returns the unsubscribe function.
 */
export function logTaskProblems(scheduler: Scheduler, fallback: FastifyBaseLogger): () => void {
  return scheduler.subscribe({
    settled(task, settlement, durationMs) {
      if (settlement.outcome !== 'failed') return
      loggerOf(task, fallback).error(
        { err: settlement.error, taskId: task.id, task: task.name, site: task.site, durationMs: durationMs === null ? null : Math.round(durationMs) },
        'background task failed',
      )
    },
    aborted(task, reason) {
      if (reason !== 'timeout') return
      loggerOf(task, fallback).warn(
        { taskId: task.id, task: task.name, site: task.site, timeoutMs: task.timeout },
        'background task exceeded its deadline; its signal was aborted',
      )
    },
    leaked(task) {
      // At shutdown the drain logs leaked tasks per group; one line each would flood the log.
      if (scheduler.closing) return
      loggerOf(task, fallback).error(
        { taskId: task.id, task: task.name, site: task.site, abortReason: task.abortReason },
        'background task ignores its abort signal (leaked): it still holds a concurrency slot',
      )
    },
  })
}
