/** How many tasks of one name the scheduler lets run at once, as the limits benchmark reads it. */
import type { Scheduler } from '@fastify-tasks/core'

/** The name's own limit; `concurrency` when it has none (or no entry yet). */
export function readLimit(scheduler: Scheduler, name: string): number {
  return scheduler.limitOf(name)?.limit ?? scheduler.concurrency
}
