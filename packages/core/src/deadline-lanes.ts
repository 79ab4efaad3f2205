import type { Clock } from './clock.js'
import type { TaskList, TaskRecord } from './task.js'
import { append, createList, unlink } from './task-list.js'

/**
 * Deadlines for every task on one shared timer.
 *
 * Tasks with the same duration (the default timeout, the abort grace) expire in the order they were
 * added, so each duration gets a FIFO "lane" and only lane heads can be due. Adding is an O(1) append
 * that never touches the timer unless it starts an empty lane with an earlier deadline than the one
 * armed; removal is an O(1) unlink that leaves the timer alone (a stale wake-up just re-arms).
 */
export class DeadlineLanes {
  readonly #lanes = new Map<number, TaskList>()
  readonly #clock: Clock
  readonly #onExpire: (task: TaskRecord) => void
  #timer: unknown = undefined
  #armedAt = Infinity

  constructor(clock: Clock, onExpire: (task: TaskRecord) => void) {
    this.#clock = clock
    this.#onExpire = onExpire
  }

  /** Starts `task`'s deadline: it expires `duration` ms after `now`. */
  add(task: TaskRecord, duration: number, now: number): void {
    let lane = this.#lanes.get(duration)
    if (lane === undefined) {
      lane = createList()
      this.#lanes.set(duration, lane)
    }
    const deadline = now + duration
    task.deadline = deadline
    append(lane, task)
    if (deadline < this.#armedAt) this.#arm(deadline, now)
  }

  /** Stops `task`'s deadline. Empty lanes are kept for reuse and pruned when the timer fires. */
  remove(task: TaskRecord): void {
    unlink(task)
    task.deadline = Infinity
  }

  /** Tasks currently timed, for tests and inspection. */
  get size(): number {
    let size = 0
    for (const lane of this.#lanes.values()) size += lane.size
    return size
  }

  /** Clears the shared timer; deadlines still registered will not fire until the next `add`. */
  stop(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#armedAt = Infinity
  }

  #arm(deadline: number, now: number): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#armedAt = deadline
    this.#timer = this.#clock.setTimeout(() => this.#fire(), Math.max(0, deadline - now))
  }

  #fire(): void {
    this.#timer = undefined
    this.#armedAt = Infinity
    const now = this.#clock.now()
    const due: TaskRecord[] = []
    for (const lane of this.#lanes.values()) {
      for (let task = lane.head; task !== undefined && task.deadline <= now; task = lane.head) {
        this.remove(task)
        due.push(task)
      }
    }
    for (const task of due) this.#onExpire(task)
    let next = Infinity
    for (const [duration, lane] of this.#lanes) {
      if (lane.head === undefined) this.#lanes.delete(duration)
      else if (lane.head.deadline < next) next = lane.head.deadline
    }
    if (next < this.#armedAt) this.#arm(next, now)
  }
}
