/**
 * How a batch of tasks is spawned and awaited. Every contender hands back one promise per task (its
 * own completion promise: fastq's `push`, p-queue's `add`, our `handle.settled`), and every pattern
 * awaits each of them, as a caller who wants the result does.
 */
import type { Task } from './task-kinds.js'

export type SpawnPatternId = 'burst' | 'steady'

/** Spawns one task and returns the promise that settles with it. */
export type Push = (task: Task) => Promise<unknown>

export interface SpawnPattern {
  readonly id: SpawnPatternId
  readonly label: string
  /** Tasks per batch. */
  readonly tasks: number
  readonly description: string
  /** Spawns the batch with `push` at `concurrency` and resolves when every task's promise has settled. */
  run(push: Push, task: Task, concurrency: number): Promise<void>
}

export const BURST_TASKS = 100_000
export const STEADY_TASKS = 200_000

export const SPAWN_PATTERNS: readonly SpawnPattern[] = [
  {
    id: 'burst',
    label: 'burst',
    tasks: BURST_TASKS,
    description: `${BURST_TASKS.toLocaleString('en-US')} tasks spawned synchronously, then every task's promise awaited (Promise.all): up to the batch pending at once`,
    run: async (push, task) => {
      const promises = new Array<Promise<unknown>>(BURST_TASKS)
      for (let i = 0; i < BURST_TASKS; i++) promises[i] = push(task)
      await Promise.all(promises)
    },
  },
  {
    id: 'steady',
    label: 'steady',
    tasks: STEADY_TASKS,
    description: `${STEADY_TASKS.toLocaleString('en-US')} tasks, as many in flight as the concurrency: each of that many loops spawns a task and awaits it, then the next`,
    run: async (push, task, concurrency) => {
      let left = STEADY_TASKS
      const lane = async (): Promise<void> => {
        while (left > 0) {
          left--
          await push(task)
        }
      }
      await Promise.all(Array.from({ length: concurrency }, lane))
    },
  },
]
