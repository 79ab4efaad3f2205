import type { TaskRecord } from './task.js'

/**
 * The tasks holding a concurrency slot (running or aborting), in an array with swap-remove: O(1)
 * add and remove, no allocation, and never more entries than slots handed out. Deadlines are found
 * by scanning it (see `DeadlineTimer`), which is cheap because it is bounded by `concurrency`.
 */
export class RunningSet {
  readonly tasks: TaskRecord[] = []

  get size(): number {
    return this.tasks.length
  }

  add(task: TaskRecord): void {
    task.slot = this.tasks.length
    this.tasks.push(task)
  }

  remove(task: TaskRecord): void {
    const index = task.slot
    if (index < 0) return
    const last = this.tasks.pop()!
    if (last !== task) {
      this.tasks[index] = last
      last.slot = index
    }
    task.slot = -1
  }
}
