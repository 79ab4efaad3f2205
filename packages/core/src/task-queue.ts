import { PRIORITIES } from './priority.js'
import type { TaskRecord } from './task.js'
import { TaskList } from './task-list.js'

/**
 * The waiting room: one FIFO per priority level, with aging. A waiting task's effective rank is its
 * level minus one per `agingInterval` waited, so the head of a lower level eventually outranks fresh
 * higher-priority work. Only the four heads are compared: O(1) per dequeue.
 */
export class TaskQueue {
  readonly #levels: TaskList<TaskRecord>[] = PRIORITIES.map(() => new TaskList<TaskRecord>())
  size = 0
  agingInterval: number

  constructor(agingInterval: number) {
    this.agingInterval = agingInterval
  }

  push(task: TaskRecord): void {
    this.#levels[task.rank]!.append(task)
    this.size++
  }

  /** Removes a waiting task (one that was pushed and not yet removed). */
  remove(task: TaskRecord): void {
    this.#levels[task.rank]!.remove(task)
    this.size--
  }

  /**
   * The task that should start next, or `undefined` when empty. With `startable`, only heads it
   * accepts are candidates (a deferred low-priority head must not hold back critical work).
   */
  peek(now: number, startable?: (task: TaskRecord) => boolean): TaskRecord | undefined {
    let best: TaskRecord | undefined
    // Computed only once a second level has a candidate: with one level in use (the common case) no aging is worked out.
    let bestRank = NaN
    for (const level of this.#levels) {
      const head = level.head
      if (head === undefined || (startable !== undefined && !startable(head))) continue
      if (best === undefined) {
        best = head
        continue
      }
      if (Number.isNaN(bestRank)) bestRank = this.#effectiveRank(best, now)
      const rank = this.#effectiveRank(head, now)
      // Equal effective rank: the longer-waiting task goes first.
      if (rank < bestRank || (rank === bestRank && head.seq < best.seq)) {
        best = head
        bestRank = rank
      }
    }
    return best
  }

  /** A waiting task's rank less one per `agingInterval` it has waited. */
  #effectiveRank(task: TaskRecord, now: number): number {
    return this.agingInterval === Infinity ? task.rank : task.rank - Math.floor((now - task.spawnedAt) / this.agingInterval)
  }

  /** The longest-waiting task, whatever its level. */
  oldest(): TaskRecord | undefined {
    let best: TaskRecord | undefined
    for (const level of this.#levels) {
      const head = level.head
      if (head !== undefined && (best === undefined || head.seq < best.seq)) best = head
    }
    return best
  }

  /** The newest task of the lowest non-empty level. */
  lowest(): TaskRecord | undefined {
    for (let i = this.#levels.length - 1; i >= 0; i--) {
      const tail = this.#levels[i]!.tail
      if (tail !== undefined) return tail
    }
    return undefined
  }

  /**
   * The levels, most urgent first, each in order of arrival, which is spawn order: a task joins its
   * level's tail when it is spawned, and never again. Read-only, for inspection.
   */
  get levels(): readonly TaskList<TaskRecord>[] {
    return this.#levels
  }

  /** Every waiting task: by priority level, then in order of arrival. The queue must not change while it is iterated. */
  [Symbol.iterator](): IterableIterator<TaskRecord> {
    return new TaskQueueIterator(this.#levels)
  }
}

/** Walks the levels one after the other (a class rather than a generator, like the lists' own iterator). */
class TaskQueueIterator implements IterableIterator<TaskRecord> {
  readonly #levels: readonly TaskList<TaskRecord>[]
  #level = 0
  #current: Iterator<TaskRecord, undefined>

  constructor(levels: readonly TaskList<TaskRecord>[]) {
    this.#levels = levels
    this.#current = levels[0]![Symbol.iterator]()
  }

  next(): IteratorResult<TaskRecord, undefined> {
    for (;;) {
      const result = this.#current.next()
      if (result.done !== true || this.#level === this.#levels.length - 1) return result
      this.#current = this.#levels[++this.#level]![Symbol.iterator]()
    }
  }

  [Symbol.iterator](): IterableIterator<TaskRecord> {
    return this
  }
}
