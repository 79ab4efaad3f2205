import type { LiveTask } from './scheduler-state.js'

/**
 * Whether a task is flagged `stuck`: running (not aborting) with no `progress()` (nor start) for
 * `stuckAfter` ms. Computed when someone looks; no event fires.
 */
export function isStuck(task: Pick<LiveTask, 'state' | 'lastProgressAt'>, now: number, stuckAfter: number): boolean {
  return task.state === 'running' && now - task.lastProgressAt >= stuckAfter
}
