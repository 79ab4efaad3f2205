import type { NameQueue } from './limits/name-limit.js'
import { PRIORITIES } from './priority.js'
import type { TaskRecord } from './task.js'
import type { TaskList } from './task-list.js'

/**
 * The waiting room: per priority level, one FIFO per task name, with aging and per-name limits.
 *
 * - Within a level, the longest-waiting task whose name may start another goes first: names at their
 *   limit are stepped over without looking at their tasks, so a deep backlog of one name costs
 *   nothing to the others (O(names waiting at the level) per dequeue, not O(queue)).
 * - Across levels, a waiting task's effective rank is its level minus one per `agingInterval`
 *   waited, so the head of a lower level eventually outranks fresh higher-priority work.
 */
export class TaskQueue {
  /** Per level, its non-empty name queues (in no order: swap-removed). */
  readonly #active: NameQueue<TaskRecord>[][] = PRIORITIES.map(() => [])
  size = 0
  agingInterval: number

  constructor(agingInterval: number) {
    this.agingInterval = agingInterval
  }

  push(task: TaskRecord): void {
    const queue = task.limits.queue(task.rank)
    if (queue.index < 0) {
      const level = this.#active[task.rank]!
      queue.index = level.length
      level.push(queue)
    }
    queue.list.append(task)
    queue.entry.waiting++
    this.size++
  }

  /** Removes a waiting task (one that was pushed and not yet removed). */
  remove(task: TaskRecord): void {
    const queue = task.limits.queues[task.rank]!
    queue.list.remove(task)
    queue.entry.waiting--
    this.size--
    if (queue.list.head === undefined) {
      const level = this.#active[task.rank]!
      const last = level.pop()!
      if (last !== queue) {
        level[queue.index] = last
        last.index = queue.index
      }
      queue.index = -1
    }
  }

  /**
   * The task that should start next, or `undefined` when none may. A name may start another task
   * while it holds fewer slots than its limit; past `shareCap` slots (the bulkhead), only when no
   * other waiting name can take the slot. With `startable`, only candidates it accepts are considered (a deferred low-priority
   * head must not hold back critical work).
   */
  peek(now: number, shareCap: number, startable?: (task: TaskRecord) => boolean): TaskRecord | undefined {
    let best: TaskRecord | undefined
    // Computed only once a second level has a candidate: with one level in use (the common case) no aging is worked out.
    let bestRank = NaN
    // The best task of a name past its share: it goes only if no other name can use the slot.
    let overShare: TaskRecord | undefined
    for (const level of this.#active) {
      let head: TaskRecord | undefined
      for (let i = 0; i < level.length; i++) {
        const queue = level[i]!
        const entry = queue.entry
        if (entry.running >= entry.limit) {
          if (entry.adaptive !== undefined) entry.adaptive.saturated = true
          continue
        }
        // Its rate limit is reached: nothing of it starts before its window ends.
        if (entry.blockedUntil > now) continue
        const first = queue.list.head!
        if (entry.running >= shareCap && this.size !== entry.waiting) {
          if (overShare === undefined && (startable === undefined || startable(first))) overShare = first
          continue
        }
        if (head === undefined || first.seq < head.seq) head = first
      }
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
    return best ?? overShare
  }

  /** A waiting task's rank less one per `agingInterval` it has waited. */
  #effectiveRank(task: TaskRecord, now: number): number {
    return this.agingInterval === Infinity ? task.rank : task.rank - Math.floor((now - task.readyAt) / this.agingInterval)
  }

  /** The longest-waiting task, whatever its level and name. */
  oldest(): TaskRecord | undefined {
    let best: TaskRecord | undefined
    for (const level of this.#active) {
      for (const queue of level) {
        const head = queue.list.head!
        if (best === undefined || head.seq < best.seq) best = head
      }
    }
    return best
  }

  /** The newest task of the lowest non-empty level. */
  lowest(): TaskRecord | undefined {
    for (let i = this.#active.length - 1; i >= 0; i--) {
      let newest: TaskRecord | undefined
      for (const queue of this.#active[i]!) {
        const tail = queue.list.tail!
        if (newest === undefined || tail.seq > newest.seq) newest = tail
      }
      if (newest !== undefined) return newest
    }
    return undefined
  }

  /**
   * The non-empty FIFOs (one per name and level), most urgent level first, each in order of arrival,
   * which is spawn order: a task joins its FIFO's tail when it is spawned, and never again. Made per
   * call, for inspection.
   */
  get lists(): TaskList<TaskRecord>[] {
    const lists: TaskList<TaskRecord>[] = []
    for (const level of this.#active) for (const queue of level) lists.push(queue.list)
    return lists
  }

  /** Every waiting task: by priority level, then by name, then in order of arrival. The queue must not change while it is iterated. */
  [Symbol.iterator](): IterableIterator<TaskRecord> {
    return new TaskQueueIterator(this.lists)
  }
}

/** Walks the lists one after the other (a class rather than a generator, like the lists' own iterator). */
class TaskQueueIterator implements IterableIterator<TaskRecord> {
  readonly #lists: readonly TaskList<TaskRecord>[]
  #list = 0
  #current: Iterator<TaskRecord, undefined> | undefined

  constructor(lists: readonly TaskList<TaskRecord>[]) {
    this.#lists = lists
    this.#current = lists[0]?.[Symbol.iterator]()
  }

  next(): IteratorResult<TaskRecord, undefined> {
    for (;;) {
      if (this.#current === undefined) return { done: true, value: undefined }
      const result = this.#current.next()
      if (result.done !== true) return result
      this.#current = this.#lists[++this.#list]?.[Symbol.iterator]()
    }
  }

  [Symbol.iterator](): IterableIterator<TaskRecord> {
    return this
  }
}
