import type { TaskSnapshot } from '../inspection.js'
import type { LiveState } from '../task.js'
import type { LiveTask, SchedulerState } from './scheduler-state.js'
import { isStuck } from './stuck.js'

/** One live task as a fresh, plain object (a row of `Scheduler.list()`). */
export function snapshotTask(state: SchedulerState, task: LiveTask): TaskSnapshot {
  const now = state.now
  const started = task.state !== 'pending'
  return {
    id: task.id,
    name: task.name,
    state: task.state as LiveState,
    priority: task.priority,
    ageMs: now - task.spawnedAt,
    queueWaitMs: Math.max(0, (started ? task.startedAt : now) - task.readyAt),
    startsInMs: !started && task.readyAt > now ? task.readyAt - now : null,
    attempt: task.attempt,
    runningMs: started ? now - task.startedAt : null,
    sinceProgressMs: started ? now - task.lastProgressAt : null,
    deadlineInMs: started && task.timeout !== Infinity ? task.startedAt + task.timeout - now : null,
    timeout: task.timeout === Infinity ? null : task.timeout,
    abortReason: task.abortReason ?? null,
    stuck: isStuck(task, now, state.options.stuckAfter),
    leaked: task.leaked,
    hung: task.hung,
    labels: task.labels === undefined ? null : { ...task.labels },
    meta: task.meta === undefined ? null : { ...task.meta },
    site: task.siteRef === undefined ? null : (state.siteOf(task.siteRef) ?? null),
  }
}
