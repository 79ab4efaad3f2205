/** The performance targets from the issue, checked against measured numbers. */
import type { BackpressureResult } from './backpressure-latency.js'
import {
  BACKPRESSURE_BASELINE,
  BACKPRESSURE_TUNED,
  BACKPRESSURE_UNPROTECTED,
  BACKPRESSURE_VARIANT_LABELS,
} from './backpressure-variants.js'
import type { DebugCostResult } from './debug-cost.js'
import type { HeapPerTaskResult } from './heap-per-task.js'
import type { HttpThroughputResult } from './http-throughput.js'
import { HTTP_VARIANT_LABELS, type HttpVariantId } from './http-variants.js'
import type { ScrapeCostResult } from './scrape-cost.js'
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
/** Median response time of the grouped `/debug/tasks` view (JSON), ms, with {@link DEBUG_TARGET_TASKS} live tasks. */
export const MAX_DEBUG_GROUPS_MS = 50
export const DEBUG_TARGET_TASKS = 100_000
/** Median `/metrics` scrape time, ms (at most), with {@link SCRAPE_TARGET_NAMES} distinct task names and mixed outcomes. */
export const MAX_SCRAPE_MS = 5
export const SCRAPE_TARGET_NAMES = 200
/**
 * Request p99 with background work and admission control on, as a multiple of the p99 with no
 * background work (median of the per-round ratios); background tasks must still complete.
 */
export const MAX_P99_UNDER_BACKGROUND = 2

/** What was measured in this run: a part not run has no targets checked. */
export interface Measured {
  readonly spawn?: SpawnCostResult | undefined
  readonly heap?: HeapPerTaskResult | undefined
  readonly http?: HttpThroughputResult | undefined
  readonly debug?: DebugCostResult | undefined
  readonly scrape?: ScrapeCostResult | undefined
  readonly backpressure?: BackpressureResult | undefined
}

export interface TargetCheck {
  readonly target: string
  readonly workload: string
  readonly measured: string
  readonly pass: boolean
}

const times = (ratio: number): string => `${ratio.toFixed(2)}×`

/**
 * Checks our scheduler's defaults row, for every spawn pattern and task kind, the HTTP throughput
 * of each fastify-tasks variant against plain Fastify, the cost of the debug and metrics routes, and
 * request latency under background work with admission control on.
 */
export function checkTargets({ spawn, heap, http, debug, scrape, backpressure }: Measured): TargetCheck[] {
  return [
    ...(spawn === undefined ? [] : checkSpawn(spawn)),
    ...(heap === undefined ? [] : checkHeap(heap)),
    ...(http === undefined ? [] : checkHttp(http)),
    ...(debug === undefined ? [] : checkDebug(debug)),
    ...(scrape === undefined ? [] : checkScrape(scrape)),
    ...(backpressure === undefined ? [] : checkBackpressure(backpressure)),
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

const ms = (value: number): string => `${value.toFixed(2)} ms`

/** Uses the median response time at the target's population; none if that size was not measured. */
function checkDebug(debug: DebugCostResult): TargetCheck[] {
  const row = debug.find((size) => size.tasks === DEBUG_TARGET_TASKS)
  if (row === undefined) return []
  return [
    {
      target: `GET /debug/tasks < ${MAX_DEBUG_GROUPS_MS} ms`,
      workload: `${DEBUG_TARGET_TASKS.toLocaleString('en-US')} live tasks, grouped view, JSON`,
      measured: ms(row.views.groups.ms),
      pass: row.views.groups.ms < MAX_DEBUG_GROUPS_MS,
    },
  ]
}

/** Uses the median scrape time at the target's name count; none if that count was not measured. */
function checkScrape(scrape: ScrapeCostResult): TargetCheck[] {
  const row = scrape.find((app) => app.names === SCRAPE_TARGET_NAMES)
  if (row === undefined) return []
  return [
    {
      target: `GET /metrics ≤ ${MAX_SCRAPE_MS} ms`,
      workload: `${SCRAPE_TARGET_NAMES} task names, mixed outcomes`,
      measured: `${ms(row.ms)}, ${(row.bytes / 1024 / 1024).toFixed(2)} MiB`,
      pass: row.ms <= MAX_SCRAPE_MS,
    },
  ]
}

/**
 * For each tuned admission-control variant: the median of its per-round request p99 ÷ the
 * baseline's, and at least one background task completed in every measured window. The p99 without
 * admission control is shown alongside.
 */
function checkBackpressure(result: BackpressureResult): TargetCheck[] {
  const baseline = result[BACKPRESSURE_BASELINE].median
  const unprotected = result[BACKPRESSURE_UNPROTECTED].median
  return BACKPRESSURE_TUNED.map((variant) => {
    const stats = result[variant]
    return {
      target: `request p99 ≤ ${MAX_P99_UNDER_BACKGROUND}× no-background p99, tasks complete`,
      workload: `background CPU, ${BACKPRESSURE_VARIANT_LABELS[variant]}`,
      measured:
        `${times(stats.p99ToBaseline)} (${ms(stats.median.p99Ms)} vs ${ms(baseline.p99Ms)}; off: ${ms(unprotected.p99Ms)}), ` +
        `${stats.median.completedPerSecond.toFixed(1)} tasks/s`,
      pass: stats.p99ToBaseline <= MAX_P99_UNDER_BACKGROUND && stats.completedMin > 0,
    }
  })
}
