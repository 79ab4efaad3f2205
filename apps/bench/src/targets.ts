/** The performance targets from the issue, checked against measured numbers. */
import type { HeapPerTaskResult } from './heap-per-task.js'
import type { SpawnCostResult } from './spawn-cost.js'
import { SPAWN_PATTERNS } from './spawn-patterns.js'
import { TASK_KINDS } from './task-kinds.js'

/** ours / fastq, median µs per task. */
export const MAX_RATIO_TO_FASTQ = 1.5
/** p-queue / ours, median µs per task. */
export const MIN_SPEEDUP_OVER_PQUEUE = 3
/** Heap bytes per live pending task. */
export const MAX_HEAP_PER_PENDING_TASK = 1024

export interface TargetCheck {
  readonly target: string
  readonly workload: string
  readonly measured: string
  readonly pass: boolean
}

const times = (ratio: number): string => `${ratio.toFixed(2)}×`

/** Checks our scheduler's defaults row, for every spawn pattern and task kind. */
export function checkTargets(spawn: SpawnCostResult, heap: HeapPerTaskResult): TargetCheck[] {
  const checks: TargetCheck[] = []
  const workloads = SPAWN_PATTERNS.flatMap((pattern) =>
    TASK_KINDS.map((kind) => ({ label: `${pattern.label}, ${kind.label}`, cost: spawn[pattern.id][kind.id] })),
  )
  for (const { label, cost } of workloads) {
    const ratio = cost.ours.median / cost.fastq.median
    checks.push({
      target: `ours within ${MAX_RATIO_TO_FASTQ}× of fastq`,
      workload: label,
      measured: `ours/fastq = ${times(ratio)}`,
      pass: ratio <= MAX_RATIO_TO_FASTQ,
    })
  }
  for (const { label, cost } of workloads) {
    const speedup = cost.pqueue.median / cost.ours.median
    checks.push({
      target: `≥ ${MIN_SPEEDUP_OVER_PQUEUE}× faster than p-queue`,
      workload: label,
      measured: `pqueue/ours = ${times(speedup)}`,
      pass: speedup >= MIN_SPEEDUP_OVER_PQUEUE,
    })
  }
  checks.push({
    target: `≤ ${MAX_HEAP_PER_PENDING_TASK / 1024} KiB heap per live pending task`,
    workload: 'pending behind a held slot',
    measured: `${Math.round(heap.ours)} B`,
    pass: heap.ours <= MAX_HEAP_PER_PENDING_TASK,
  })
  return checks
}
