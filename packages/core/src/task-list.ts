/** A link in a task list: a task, or a list's sentinel. */
export interface ListNode {
  prev: ListNode | undefined
  next: ListNode | undefined
}

/**
 * An intrusive, circular, doubly-linked list of tasks with a sentinel node: O(1) append, removal and
 * shift, no allocation, and no branches on the hot path (branches that only run when a list empties
 * kept deoptimizing the removal code). A task is in at most one list: its priority level's, while
 * it is pending.
 */
export class TaskList<T extends ListNode> {
  readonly #sentinel: ListNode = { prev: undefined, next: undefined }

  constructor() {
    this.#sentinel.prev = this.#sentinel
    this.#sentinel.next = this.#sentinel
  }

  get head(): T | undefined {
    const node = this.#sentinel.next
    return node === this.#sentinel ? undefined : (node as T)
  }

  get tail(): T | undefined {
    const node = this.#sentinel.prev
    return node === this.#sentinel ? undefined : (node as T)
  }

  append(task: T): void {
    const sentinel = this.#sentinel
    const last = sentinel.prev!
    task.prev = last
    task.next = sentinel
    last.next = task
    sentinel.prev = task
  }

  /** The task after `task` (which must be in this list), or `undefined` at the tail. For walks that stop early. */
  after(task: T): T | undefined {
    const node = task.next
    return node === this.#sentinel ? undefined : (node as T)
  }

  /** The task before `task` (which must be in this list), or `undefined` at the head. */
  before(task: T): T | undefined {
    const node = task.prev
    return node === this.#sentinel ? undefined : (node as T)
  }

  /** From head to tail. The list must not change while it is iterated. */
  [Symbol.iterator](): IterableIterator<T> {
    return new TaskListIterator<T>(this.#sentinel)
  }

  /** Removes `task`, which must be in this list. */
  remove(task: T): void {
    const prev = task.prev!
    const next = task.next!
    prev.next = next
    next.prev = prev
    task.prev = undefined
    task.next = undefined
  }
}

/**
 * Walks a list from head to tail. A class rather than a generator: inspecting 100 000 queued tasks
 * through it costs about a third as much.
 */
class TaskListIterator<T extends ListNode> implements IterableIterator<T> {
  readonly #end: ListNode
  #node: ListNode

  constructor(sentinel: ListNode) {
    this.#end = sentinel
    this.#node = sentinel.next!
  }

  next(): IteratorResult<T, undefined> {
    const node = this.#node
    if (node === this.#end) return { done: true, value: undefined }
    this.#node = node.next!
    return { done: false, value: node as T }
  }

  [Symbol.iterator](): IterableIterator<T> {
    return this
  }
}
