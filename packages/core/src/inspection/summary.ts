import type { SchedulerSummary } from '../inspection.js'
import type { SchedulerState } from './scheduler-state.js'
import { isStuck } from './stuck.js'

/** Counts and limits at one instant, as a fresh object (`Scheduler.summary()`). */
export function summarize(state: SchedulerState): SchedulerSummary {
  const { now, options: o, counts } = state
  let stuck = 0
  let oldestStart = Infinity
  for (const task of state.running) {
    if (isStuck(task, now, o.stuckAfter)) stuck++
    if (task.startedAt < oldestStart) oldestStart = task.startedAt
  }
  const delayed = state.delayed.length
  const pending = state.queued.size + delayed
  const running = state.running.length
  const aborting = state.givenUp.size
  return {
    live: { pending, delayed, running, aborting, total: pending + running + aborting },
    spawned: counts.spawned,
    deferred: counts.deferred,
    rejected: { ...counts.rejected },
    outcomes: { ...counts.outcomes },
    stuck,
    oldestRunningAgeMs: oldestStart === Infinity ? null : now - oldestStart,
    leaked: { live: counts.leakedLive, total: counts.leakedTotal },
    hung: { live: counts.hungLive, total: counts.hungTotal },
    givenUp: {
      live: aborting,
      ...counts.released,
      late: counts.late,
      full: state.givenUp.fullNames(10),
    },
    limits: {
      concurrency: state.concurrency,
      perName: o.limits.perName,
      maxShare: o.limits.maxShare,
      maxQueue: o.maxQueue,
      overflow: o.overflow,
      timeout: o.timeout,
      abortGrace: o.abortGrace,
      maxGivenUpPerName: o.maxGivenUpPerName,
      maxGivenUp: o.maxGivenUp,
      givenUpTtl: o.givenUpTtl,
      stuckAfter: o.stuckAfter,
    },
    closing: state.closing,
    backend: { ...state.backend },
  }
}
