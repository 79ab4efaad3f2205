/**
 * The scheduler and plugin options of the limits benchmark, in one place: its scenarios run with the
 * defaults (whatever they are when it runs), or with a fixed limit where they say so.
 */
import type { SchedulerOptions } from '@fastify-tasks/core'
import type { FastifyTasksOptions } from 'fastify-tasks'

/** What the scenarios that measure the defaults pass to `new Scheduler()`: nothing. */
export const DEFAULT_SCHEDULER_OPTIONS: SchedulerOptions = {}

/** A fixed limit of `limit` running tasks for every task name (the scenarios that use it spawn one name). */
export function fixedLimitOptions(limit: number): SchedulerOptions {
  return { ...DEFAULT_SCHEDULER_OPTIONS, limits: { perName: limit } }
}

/**
 * fastify-tasks as registered by the queued-server scenario: its defaults, with room in the queue
 * beyond the tasks the scenario keeps waiting (the default `maxQueue` would be full with exactly them),
 * and without answering 503 while the event loop is overloaded (the load generator saturates a
 * two-core machine; shedding requests would end the measurement, and is not what it measures).
 */
export const QUEUED_SERVER_OPTIONS: FastifyTasksOptions = { maxQueue: 20_000, backpressure: { requests: false, underPressure: false } }
