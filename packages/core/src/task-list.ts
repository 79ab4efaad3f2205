import type { TaskList, TaskRecord } from './task.js'

/**
 * Intrusive doubly-linked lists over task records: O(1) append, removal and shift, no allocation.
 * A record is in at most one list at a time (a queue level while pending, a deadline lane after).
 */
export function createList(): TaskList {
  return { head: undefined, tail: undefined, size: 0 }
}

export function append(list: TaskList, task: TaskRecord): void {
  task.list = list
  task.prev = list.tail
  task.next = undefined
  if (list.tail === undefined) list.head = task
  else list.tail.next = task
  list.tail = task
  list.size++
}

export function unlink(task: TaskRecord): void {
  const list = task.list
  if (list === undefined) return
  if (task.prev === undefined) list.head = task.next
  else task.prev.next = task.next
  if (task.next === undefined) list.tail = task.prev
  else task.next.prev = task.prev
  task.list = undefined
  task.prev = undefined
  task.next = undefined
  list.size--
}
