import type { TaskRecord } from './task.js'

/**
 * Tasks the scheduler has given up on: aborted (deadline passed, cancelled, shutdown) but their
 * function has not settled. They hold no concurrency slot; they are kept here, in order of abort, so
 * they stay visible (`aborting`, then `leaked`) until they settle or are released.
 *
 * Bounded twice: per task name (one bad dependency cannot push out another's evidence) and in total
 * (names are user input). Insertion-ordered sets give O(1) add, remove and oldest; the abort grace
 * and the time to live are the same for every task, so the oldest entries are always the first due.
 */
export class GivenUpSet {
  readonly perName: number
  readonly total: number
  readonly #all = new Set<TaskRecord>()
  readonly #byName = new Map<string, Set<TaskRecord>>()
  /** Entries not yet flagged leaked, in order of abort. */
  readonly #unflagged = new Set<TaskRecord>()

  constructor(perName: number, total: number) {
    this.perName = perName
    this.total = total
  }

  get size(): number {
    return this.#all.size
  }

  /** The entry to release before `name` can add one more, if a cap is reached. */
  victimFor(name: string): TaskRecord | undefined {
    const own = this.#byName.get(name)
    if (own !== undefined && own.size >= this.perName) return first(own)
    if (this.#all.size >= this.total) return first(this.#all)
    return undefined
  }

  /** Whether a cap leaves no room at all (a cap of 0): a task given up on is released at once. */
  get disabled(): boolean {
    return this.perName === 0 || this.total === 0
  }

  add(task: TaskRecord): void {
    this.#all.add(task)
    this.#unflagged.add(task)
    let own = this.#byName.get(task.name)
    if (own === undefined) this.#byName.set(task.name, (own = new Set()))
    own.add(task)
  }

  delete(task: TaskRecord): boolean {
    if (!this.#all.delete(task)) return false
    this.#unflagged.delete(task)
    const own = this.#byName.get(task.name)!
    own.delete(task)
    if (own.size === 0) this.#byName.delete(task.name)
    return true
  }

  has(task: TaskRecord): boolean {
    return this.#all.has(task)
  }

  /** The entry given up longest ago. */
  oldest(): TaskRecord | undefined {
    return first(this.#all)
  }

  /** The entry given up longest ago that is not flagged leaked yet. */
  oldestUnflagged(): TaskRecord | undefined {
    return first(this.#unflagged)
  }

  /** It was flagged leaked: it no longer needs watching for its grace. */
  flagged(task: TaskRecord): void {
    this.#unflagged.delete(task)
  }

  /** Names whose cap is reached, at most `limit` of them. */
  fullNames(limit: number): string[] {
    const out: string[] = []
    for (const [name, own] of this.#byName) {
      if (own.size >= this.perName) out.push(name)
      if (out.length === limit) break
    }
    return out
  }

  [Symbol.iterator](): IterableIterator<TaskRecord> {
    return this.#all.values()
  }
}

function first(set: Set<TaskRecord>): TaskRecord | undefined {
  for (const task of set) return task
  return undefined
}
