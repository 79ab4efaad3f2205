/**
 * How many tasks of one name the scheduler lets run at once, as the limits benchmark reads it. Today
 * the scheduler has a single limit for every name (`concurrency`); once limits are kept per name, this
 * is the one place that reads them.
 */
import type { Scheduler } from '@fastify-tasks/core'

export function readLimit(scheduler: Scheduler, _name: string): number {
  return scheduler.concurrency
}
