/** The performance targets from the issue, checked against measured numbers. */
import type { HeapPerTaskResult } from './heap-per-task.js'
import type { HttpThroughputResult } from './http-throughput.js'
import { HTTP_VARIANT_LABELS, type HttpVariantId } from './http-variants.js'
import type { SpawnCostResult } from './spawn-cost.js'
import { SPAWN_PATTERNS } from './spawn-patterns.js'
import { TASK_KINDS } from './task-kinds.js'

/** ours / fastq, median µs per task. */
export const MAX_RATIO_TO_FASTQ = 1.5
/** p-queue / ours, median µs per task. */
export const MIN_SPEEDUP_OVER_PQUEUE = 3
/** Heap bytes per live pending task. */
export const MAX_HEAP_PER_PENDING_TASK = 1024
/** Least req/s of each fastify-tasks variant, as a share of plain Fastify's. */
export const MIN_HTTP_SHARE: Readonly<Record<Exclude<HttpVariantId, 'plain'>, number>> = {
  idle: 0.97,
  spawn: 0.85,
}

/** What was measured in this run: a part not run has no targets checked. */
export interface Measured {
  readonly spawn?: SpawnCostResult | undefined
  readonly heap?: HeapPerTaskResult | undefined
  readonly http?: HttpThroughputResult | undefined
}

export interface TargetCheck {
  readonly target: string
  readonly workload: string
  readonly measured: string
  readonly pass: boolean
}

const times = (ratio: number): string => `${ratio.toFixed(2)}×`

/**
 * Checks our scheduler's defaults row, for every spawn pattern and task kind, and the HTTP
 * throughput of each fastify-tasks variant against plain Fastify.
 */
export function checkTargets({ spawn, heap, http }: Measured): TargetCheck[] {
  return [
    ...(spawn === undefined ? [] : checkSpawn(spawn)),
    ...(heap === undefined ? [] : checkHeap(heap)),
    ...(http === undefined ? [] : checkHttp(http)),
  ]
}

function checkSpawn(spawn: SpawnCostResult): TargetCheck[] {
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
  return checks
}

function checkHeap(heap: HeapPerTaskResult): TargetCheck[] {
  return [
    {
      target: `≤ ${MAX_HEAP_PER_PENDING_TASK / 1024} KiB heap per live pending task`,
      workload: 'pending behind a held slot',
      measured: `${Math.round(heap.ours)} B`,
      pass: heap.ours <= MAX_HEAP_PER_PENDING_TASK,
    },
  ]
}

const percent = (share: number): string => `${(share * 100).toFixed(1)} %`

/** Uses the median of the per-round ratios to plain Fastify. */
function checkHttp(http: HttpThroughputResult): TargetCheck[] {
  return (['idle', 'spawn'] as const).map((variant) => {
    const share = http[variant].ratioToBaseline
    return {
      target: `≥ ${MIN_HTTP_SHARE[variant] * 100} % of plain Fastify req/s`,
      workload: `HTTP, ${HTTP_VARIANT_LABELS[variant]}`,
      measured: `${percent(share)} of plain`,
      pass: share >= MIN_HTTP_SHARE[variant],
    }
  })
}
