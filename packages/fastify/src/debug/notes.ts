import type { NameLimitState, SchedulerSummary, TaskGroup } from '@fastify-tasks/core'
import type { BackpressureState } from '../backpressure/backpressure.js'
import { duration } from './text-table.js'

/**
 * What needs an operator's attention, in words: a queue that does not move and why, given-up sets at
 * their cap, tasks that ignore their abort signal. Empty when all is well. Names are not repeated
 * here (the groups show them); only counts, limits and ages.
 */
export function debugNotes(
  summary: SchedulerSummary,
  groups: readonly TaskGroup[],
  backpressure: BackpressureState | null,
  perName: readonly NameLimitState[],
): string[] {
  const notes: string[] = []
  const { live, limits } = summary
  const slots = backpressure?.concurrency.effective ?? limits.concurrency
  // Delayed tasks (a `delay`, a retry's backoff) wait for their time by design: only the queue is news.
  const queued = live.pending - live.delayed
  if (queued > 0) {
    let oldestWait = 0
    for (const group of groups) if (group.state === 'pending' && group.oldestAgeMs > oldestWait) oldestWait = group.oldestAgeMs
    const waiting = `${queued} waiting, the oldest for ${duration(oldestWait)}`
    if (live.running >= slots && summary.stuck >= live.running) {
      notes.push(
        `queue not moving: ${live.running} of ${slots} slots held by tasks with no progress for ${duration(limits.stuckAfter)} or more (stuck); ${waiting}`,
      )
    } else if (live.running >= slots) {
      notes.push(`queue waiting: all ${slots} slots busy; ${waiting}`)
    } else if (backpressure !== null && backpressure.onOverload === 'defer' && backpressure.overloaded) {
      notes.push(`queue held: the event loop is overloaded, so background work below ${backpressure.admitWhenOverloaded} waits; ${waiting}`)
    } else if (heldByLimits(perName).tasks > 0) {
      const held = heldByLimits(perName)
      notes.push(
        `queue held by limits per task name: ${held.tasks} of the waiting tasks belong to ${held.names} name(s) at their limit or rate (see the limits); ${waiting}`,
      )
    } else {
      notes.push(
        `queue held with ${slots - live.running} of ${slots} slots free: a start gate holds it, or the scheduler is yielding to the event loop after 10 ms of task starts in one turn; ${waiting}`,
      )
    }
  }
  if (summary.givenUp.full.length > 0) {
    notes.push(
      `given-up set full for ${summary.givenUp.full.length} task name(s) (${limits.maxGivenUpPerName} each): every new give-up releases the oldest, ` +
        `${summary.givenUp.evicted} released so far; their calls ignore the abort signal`,
    )
  }
  if (summary.hung.live > 0) {
    notes.push(
      `${summary.hung.live} tasks are proven hung: the garbage collector collected their promise, so nothing can ever settle them (an awaited promise whose resolve and reject nothing holds); see their spawn sites`,
    )
  }
  if (summary.leaked.live > 0) {
    notes.push(
      `${summary.leaked.live} tasks ignore their abort signal (leaked); they hold no slot and are tracked as aborting until they settle or are released`,
    )
  }
  return notes
}

/** Waiting tasks of names at their own limit or held by their rate limit, and how many such names. */
function heldByLimits(perName: readonly NameLimitState[]): { tasks: number; names: number } {
  let tasks = 0
  let names = 0
  for (const l of perName) {
    if (l.waiting > 0 && ((l.limit !== null && l.running >= l.limit) || (l.rate !== null && l.rate.heldForMs > 0))) {
      tasks += l.waiting
      names++
    }
  }
  return { tasks, names }
}
