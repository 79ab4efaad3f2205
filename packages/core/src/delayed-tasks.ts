/** What the delayed set needs of a task: when it may start, and its place in the heap. */
export interface DelayedNode {
  /** When it may start (clock ms). */
  readyAt: number
  /** Its index in the heap while delayed, else -1. */
  heapIndex: number
}

/**
 * Tasks admitted but not yet allowed to start: spawned with a `delay`, or waiting to be retried. A
 * binary min-heap by `readyAt`: the scheduler's one timer wakes for the earliest, which moves to the
 * queue; a cancelled one is removed from its place in O(log n).
 */
export class DelayedTasks<T extends DelayedNode> {
  readonly #heap: T[] = []

  get size(): number {
    return this.#heap.length
  }

  /** The earliest `readyAt`, or `Infinity` when empty. */
  get nextAt(): number {
    return this.#heap.length === 0 ? Infinity : this.#heap[0]!.readyAt
  }

  /** Every delayed task, in no particular order. */
  get tasks(): readonly T[] {
    return this.#heap
  }

  add(task: T): void {
    task.heapIndex = this.#heap.length
    this.#heap.push(task)
    this.#up(task.heapIndex)
  }

  has(task: T): boolean {
    return task.heapIndex >= 0 && this.#heap[task.heapIndex] === task
  }

  /** Removes and returns the earliest task whose time has come, or `undefined`. */
  popDue(now: number): T | undefined {
    const first = this.#heap[0]
    if (first === undefined || first.readyAt > now) return undefined
    this.remove(first)
    return first
  }

  remove(task: T): boolean {
    if (!this.has(task)) return false
    const heap = this.#heap
    const at = task.heapIndex
    const last = heap.pop()!
    task.heapIndex = -1
    if (last !== task) {
      heap[at] = last
      last.heapIndex = at
      this.#down(at)
      this.#up(last.heapIndex)
    }
    return true
  }

  /** Empties the set, returning what it held (earliest first). */
  drain(): T[] {
    const all = [...this.#heap].sort((a, b) => a.readyAt - b.readyAt)
    for (const task of all) task.heapIndex = -1
    this.#heap.length = 0
    return all
  }

  #up(at: number): void {
    const heap = this.#heap
    const task = heap[at]!
    while (at > 0) {
      const parent = (at - 1) >> 1
      if (heap[parent]!.readyAt <= task.readyAt) break
      heap[at] = heap[parent]!
      heap[at]!.heapIndex = at
      at = parent
    }
    heap[at] = task
    task.heapIndex = at
  }

  #down(at: number): void {
    const heap = this.#heap
    const task = heap[at]!
    const n = heap.length
    for (;;) {
      const left = 2 * at + 1
      if (left >= n) break
      const right = left + 1
      const child = right < n && heap[right]!.readyAt < heap[left]!.readyAt ? right : left
      if (heap[child]!.readyAt >= task.readyAt) break
      heap[at] = heap[child]!
      heap[at]!.heapIndex = at
      at = child
    }
    heap[at] = task
    task.heapIndex = at
  }
}
