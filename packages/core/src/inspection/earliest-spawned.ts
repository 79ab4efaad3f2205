import type { LiveTask } from './scheduler-state.js'

/**
 * The `count` earliest spawned tasks (lowest `seq`) among those of `sources` that `accept` takes, in
 * spawn order. For the sets kept in no spawn order (running, given up): one pass with a bounded
 * max-heap, so `n` tasks cost O(n log count) and nothing is built per task that is not kept, where
 * collecting and sorting them all would cost O(n log n).
 */
export function earliestSpawned(sources: readonly Iterable<LiveTask>[], count: number, accept: (task: LiveTask) => boolean): LiveTask[] {
  // heap[0] is the latest spawned of those kept: the one a newcomer replaces.
  const heap: LiveTask[] = []
  if (count <= 0) return heap
  for (const source of sources) {
    for (const task of source) {
      if (heap.length === count && task.seq >= heap[0]!.seq) continue
      if (!accept(task)) continue
      if (heap.length < count) siftUp(heap, task)
      else siftDown(heap, task)
    }
  }
  return heap.sort((a, b) => a.seq - b.seq)
}

/** Adds `task` to the max-heap. */
function siftUp(heap: LiveTask[], task: LiveTask): void {
  let i = heap.length
  heap.push(task)
  while (i > 0) {
    const parent = (i - 1) >> 1
    if (heap[parent]!.seq >= task.seq) break
    heap[i] = heap[parent]!
    i = parent
  }
  heap[i] = task
}

/** Replaces the max-heap's top with `task`. */
function siftDown(heap: LiveTask[], task: LiveTask): void {
  const n = heap.length
  let i = 0
  for (;;) {
    let child = 2 * i + 1
    if (child >= n) break
    if (child + 1 < n && heap[child + 1]!.seq > heap[child]!.seq) child++
    if (heap[child]!.seq <= task.seq) break
    heap[i] = heap[child]!
    i = child
  }
  heap[i] = task
}
