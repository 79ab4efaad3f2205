/** The performance targets from the issue, checked against measured numbers. */
import type { BackpressureResult } from './backpressure-latency.js'
import {
  BACKPRESSURE_BASELINE,
  BACKPRESSURE_TUNED,
  BACKPRESSURE_UNPROTECTED,
  BACKPRESSURE_VARIANT_LABELS,
} from './backpressure-variants.js'
import type { DebugCostResult } from './debug-cost.js'
import { IN_FLIGHT, JOBS, WORKER_CONCURRENCY, type DurableResult } from './durable-backend.js'
import { DEBUG_TASK_VIEWS, DEBUG_VIEW_LABELS } from './debug-views.js'
import type { HeapPerTaskResult } from './heap-per-task.js'
import { OFFERED_PER_SECOND } from './heavy-tail-io.js'
import type { HttpThroughputResult } from './http-throughput.js'
import { HTTP_VARIANT_LABELS } from './http-variants.js'
import type { LimitsResult } from './limits.js'
import { median } from './median.js'
import { HELD_WAITING } from './queued-variants.js'
import type { ScrapeCostResult } from './scrape-cost.js'
import type { SpawnCostResult } from './spawn-cost.js'
import { SPAWN_PATTERNS, type SpawnPatternId } from './spawn-patterns.js'
import { TASK_KINDS } from './task-kinds.js'

/** ours ÷ fastq and p-queue ÷ ours, µs per task: medians of the per-round ratios, by spawn pattern. */
export const SPAWN_TARGETS: Readonly<Record<SpawnPatternId, { maxRatioToFastq: number; minSpeedupOverPqueue: number }>> = {
  burst: { maxRatioToFastq: 1, minSpeedupOverPqueue: 2 },
  steady: { maxRatioToFastq: 1.2, minSpeedupOverPqueue: 3 },
}
/** Heap bytes per live pending task. */
export const MAX_HEAP_PER_PENDING_TASK = 1024
/** Most server CPU µs per request each idle fastify-tasks variant may add to plain Fastify's. */
export const MAX_IDLE_ADDED_US: Readonly<Record<'idle-nohttp' | 'idle', number>> = {
  'idle-nohttp': 0.3,
  idle: 1.5,
}
/** Least req/s of the plugin with the HTTP metric off, as a share of plain Fastify's. */
export const MIN_IDLE_NOHTTP_SHARE = 0.97
/** Most server CPU µs per request one spawn per request may add to the idle plugin's (defaults). */
export const MAX_SPAWN_ADDED_US = 1.2
/** Median response time of the grouped `/debug/tasks` view (JSON), ms, with {@link DEBUG_TARGET_TASKS} live tasks. */
export const MAX_DEBUG_GROUPS_MS = 50
export const DEBUG_TARGET_TASKS = 100_000
/**
 * Most time of a `?view=tasks&limit=100` page (unfiltered or filtered), as a share of the grouped
 * view's (JSON) in the same round, with {@link DEBUG_TARGET_TASKS} live tasks: a page costs no more
 * than the one-screen summary of everything.
 */
export const MAX_DEBUG_TASKS_TO_GROUPS = 1
/** Median `/metrics` scrape time, ms (at most), with {@link SCRAPE_TARGET_NAMES} distinct task names and mixed outcomes. */
export const MAX_SCRAPE_MS = 5
export const SCRAPE_TARGET_NAMES = 200
/**
 * Request p99 with background work and admission control on, as a multiple of the p99 with no
 * background work (median of the per-round ratios); background tasks must still complete.
 */
export const MAX_P99_UNDER_BACKGROUND = 2
/** Heavy-tail I/O with the default options: spawn-to-start wait, ms (median over the runs of each run's percentile). */
export const MAX_SPAWN_TO_START_P50_MS = 10
export const MAX_SPAWN_TO_START_P99_MS = 100
/** Heavy-tail I/O: calls completed through the scheduler, as a share of untracked calls' (median of the per-round ratios). */
export const MIN_COMPLETED_SHARE = 0.99
/** Capacity dependency: the default options' limit for the name within this share of the maximizing fixed limit, in each phase. */
export const MAX_LIMIT_ERROR = 0.1
/** Request p99 with every slot held and a long queue, as a multiple of the p99 with no tasks (median of the per-round ratios). */
export const MAX_P99_WITH_QUEUE = 1.1

/** The BullMQ backend against raw BullMQ on the same Redis: most overhead in jobs/s and in p50 add latency (median of the per-round ratios). */
export const MAX_DURABLE_OVERHEAD = 0.1

/** What was measured in this run: a part not run has no targets checked. */
export interface Measured {
  readonly spawn?: SpawnCostResult | undefined
  readonly heap?: HeapPerTaskResult | undefined
  readonly http?: HttpThroughputResult | undefined
  readonly debug?: DebugCostResult | undefined
  readonly scrape?: ScrapeCostResult | undefined
  readonly backpressure?: BackpressureResult | undefined
  readonly limits?: LimitsResult | undefined
  readonly durable?: DurableResult | undefined
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
 * request latency under background work with admission control on, and the limits on running tasks.
 */
export function checkTargets({ spawn, heap, http, debug, scrape, backpressure, limits, durable }: Measured): TargetCheck[] {
  return [
    ...(spawn === undefined ? [] : checkSpawn(spawn)),
    ...(heap === undefined ? [] : checkHeap(heap)),
    ...(http === undefined ? [] : checkHttp(http)),
    ...(debug === undefined ? [] : checkDebug(debug)),
    ...(scrape === undefined ? [] : checkScrape(scrape)),
    ...(backpressure === undefined ? [] : checkBackpressure(backpressure)),
    ...(limits === undefined ? [] : checkLimits(limits)),
    ...(durable === undefined ? [] : checkDurable(durable)),
  ]
}

function checkDurable(durable: DurableResult): TargetCheck[] {
  const workload = `${JOBS} jobs, ${IN_FLIGHT} adds at once, worker concurrency ${WORKER_CONCURRENCY}, same Redis`
  // Against raw BullMQ asked for the same job options: the cost of our layer, not of the options.
  const throughput = perRoundRatio(
    durable.rawSame.map((r) => r.jobsPerSecond),
    durable.ours.map((r) => r.jobsPerSecond),
  )
  const latency = perRoundRatio(
    durable.ours.map((r) => r.p50),
    durable.rawSame.map((r) => r.p50),
  )
  const most = 1 + MAX_DURABLE_OVERHEAD
  return [
    {
      target: `jobs/s end to end: raw BullMQ (our job options) ≤ ${most}× ours`,
      workload,
      measured: ratioText('raw/ours', throughput),
      pass: throughput.median <= most,
    },
    {
      target: `add latency p50: ours ≤ ${most}× raw BullMQ (our job options)`,
      workload,
      measured: ratioText('ours/raw', latency),
      pass: latency.median <= most,
    },
  ]
}

/** Median and range of the per-round ratios a[i] ÷ b[i]. */
function perRoundRatio(a: readonly number[], b: readonly number[]): { median: number; min: number; max: number } {
  const ratios = a.map((value, round) => value / b[round]!)
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) }
}

const ratioText = (name: string, ratio: { median: number; min: number; max: number }): string =>
  `${name} = ${times(ratio.median)} (${times(ratio.min)}–${times(ratio.max)})`

function checkSpawn(spawn: SpawnCostResult): TargetCheck[] {
  const checks: TargetCheck[] = []
  for (const pattern of SPAWN_PATTERNS) {
    const { maxRatioToFastq, minSpeedupOverPqueue } = SPAWN_TARGETS[pattern.id]
    for (const kind of TASK_KINDS) {
      const cost = spawn[pattern.id][kind.id]
      const workload = `${pattern.label}, ${kind.label}`
      const toFastq = perRoundRatio(cost.ours.byRound, cost.fastq.byRound)
      checks.push({
        target: `ours ≤ ${maxRatioToFastq}× fastq`,
        workload,
        measured: ratioText('ours/fastq', toFastq),
        pass: toFastq.median <= maxRatioToFastq,
      })
      const overPqueue = perRoundRatio(cost.pqueue.byRound, cost.ours.byRound)
      checks.push({
        target: `≥ ${minSpeedupOverPqueue}× faster than p-queue`,
        workload,
        measured: ratioText('pqueue/ours', overPqueue),
        pass: overPqueue.median >= minSpeedupOverPqueue,
      })
    }
  }
  return checks
}

function checkHeap(heap: HeapPerTaskResult): TargetCheck[] {
  return [
    {
      target: `≤ ${MAX_HEAP_PER_PENDING_TASK / 1024} KiB heap per live pending task, and ≤ fastq's`,
      workload: 'pending behind a held slot',
      measured: `${Math.round(heap.pending.ours)} B (fastq ${Math.round(heap.pending.fastq)} B)`,
      pass: heap.pending.ours <= MAX_HEAP_PER_PENDING_TASK && heap.pending.ours <= heap.pending.fastq,
    },
    {
      target: "heap per running task ≤ fastq's",
      workload: 'running, awaiting a gate',
      measured: `${Math.round(heap.running.ours)} B (fastq ${Math.round(heap.running.fastq)} B)`,
      pass: heap.running.ours <= heap.running.fastq,
    },
  ]
}

const percent = (share: number): string => `${(share * 100).toFixed(1)} %`

const us = (value: number): string => `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(2)} µs`

/** Medians of per-round differences of server CPU µs per request (and the per-round req/s ratio), with their range. */
function checkHttp(http: HttpThroughputResult): TargetCheck[] {
  const idle = (['idle-nohttp', 'idle'] as const).map((variant) => {
    const { addedCpuUs, addedCpuUsMin, addedCpuUsMax } = http[variant]
    return {
      target: `idle plugin adds ≤ ${MAX_IDLE_ADDED_US[variant]} µs CPU per request`,
      workload: `HTTP, ${HTTP_VARIANT_LABELS[variant]}`,
      measured: `${us(addedCpuUs)} (${us(addedCpuUsMin)} to ${us(addedCpuUsMax)}), ${percent(http[variant].ratioToBaseline)} of plain req/s`,
      pass:
        addedCpuUs <= MAX_IDLE_ADDED_US[variant] && (variant !== 'idle-nohttp' || http[variant].ratioToBaseline >= MIN_IDLE_NOHTTP_SHARE),
    }
  })
  const spawnOverIdle = http.spawn.serverCpuUsByRound.map((cpu, round) => cpu - http.idle.serverCpuUsByRound[round]!)
  const added = median(spawnOverIdle)
  return [
    ...idle,
    {
      target: `a spawn per request adds ≤ ${MAX_SPAWN_ADDED_US} µs CPU beyond idle`,
      workload: `HTTP, ${HTTP_VARIANT_LABELS.spawn}`,
      measured: `${us(added)} (${us(Math.min(...spawnOverIdle))} to ${us(Math.max(...spawnOverIdle))})`,
      pass: added <= MAX_SPAWN_ADDED_US,
    },
  ]
}

const ms = (value: number): string => `${value.toFixed(2)} ms`

/**
 * Uses the median response time at the target's population, and for each `?view=tasks` page the
 * median of its per-round ratios to the grouped view; none if that size was not measured.
 */
function checkDebug(debug: DebugCostResult): TargetCheck[] {
  const row = debug.find((size) => size.tasks === DEBUG_TARGET_TASKS)
  if (row === undefined) return []
  const live = `${DEBUG_TARGET_TASKS.toLocaleString('en-US')} live tasks`
  return [
    {
      target: `GET /debug/tasks < ${MAX_DEBUG_GROUPS_MS} ms`,
      workload: `${live}, grouped view, JSON`,
      measured: ms(row.views.groups.ms),
      pass: row.views.groups.ms < MAX_DEBUG_GROUPS_MS,
    },
    ...DEBUG_TASK_VIEWS.map((view) => ({
      target: `view=tasks ≤ ${MAX_DEBUG_TASKS_TO_GROUPS}× grouped view (same round)`,
      workload: `${live}, ${DEBUG_VIEW_LABELS[view]}`,
      measured: `${times(row.toGroups[view])} (${ms(row.views[view].ms)} vs ${ms(row.views.groups.ms)})`,
      pass: row.toGroups[view] <= MAX_DEBUG_TASKS_TO_GROUPS,
    })),
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

/** A wait in ms; `≥` when it is a lower bound (tasks were still waiting when the run ended). */
const wait = (value: number, atLeast: boolean): string =>
  `${atLeast ? '≥ ' : ''}${value.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })} ms`

/**
 * Heavy-tail I/O: the spawn-to-start percentiles (a lower bound passes no target), and the calls
 * completed. The capacity dependency: the limit in each phase against the maximizing fixed limit at
 * that capacity. The queued server: the median per-round ratio of request p99.
 */
function checkLimits({ heavyTail, capacity, queued }: LimitsResult): TargetCheck[] {
  const heavy = `heavy-tail I/O, ${OFFERED_PER_SECOND.toLocaleString('en-US')} spawns/s, new Scheduler()`
  const { completedRatio } = heavyTail
  return [
    {
      target: `spawn→start p50 ≤ ${MAX_SPAWN_TO_START_P50_MS} ms`,
      workload: heavy,
      measured: wait(heavyTail.waitP50Ms, heavyTail.waitP50AtLeast),
      pass: heavyTail.waitP50Ms <= MAX_SPAWN_TO_START_P50_MS && !heavyTail.waitP50AtLeast,
    },
    {
      target: `spawn→start p99 ≤ ${MAX_SPAWN_TO_START_P99_MS} ms`,
      workload: heavy,
      measured: wait(heavyTail.waitP99Ms, heavyTail.waitP99AtLeast),
      pass: heavyTail.waitP99Ms <= MAX_SPAWN_TO_START_P99_MS && !heavyTail.waitP99AtLeast,
    },
    {
      target: `completed ≥ ${percent(MIN_COMPLETED_SHARE)} of untracked`,
      workload: heavy,
      measured:
        `${percent(completedRatio.median)} (${percent(completedRatio.min)}–${percent(completedRatio.max)}), ` +
        `${heavyTail.completed.scheduler.toLocaleString('en-US')} vs ${heavyTail.completed.untracked.toLocaleString('en-US')}`,
      pass: completedRatio.median >= MIN_COMPLETED_SHARE,
    },
    ...capacity.phases.map((phase) => {
      const error = Math.abs(phase.limit - phase.best.limit) / phase.best.limit
      return {
        target: `limit within ${percent(MAX_LIMIT_ERROR)} of the best fixed limit`,
        workload: `capacity dependency, ${phase.label} (capacity ${phase.capacity})`,
        measured: `${phase.limit} vs ${phase.best.limit} (${percent(error)} off)`,
        pass: error <= MAX_LIMIT_ERROR,
      }
    }),
    {
      target: `request p99 ≤ ${MAX_P99_WITH_QUEUE}× with no tasks`,
      workload: `HTTP, every slot held, ${HELD_WAITING.toLocaleString('en-US')} waiting`,
      measured: `${ratioText('queued/empty', queued.queued.p99Ratio)} (${queued.queued.median.p99Ms.toFixed(3)} vs ${queued.empty.median.p99Ms.toFixed(3)} ms)`,
      pass: queued.queued.p99Ratio.median <= MAX_P99_WITH_QUEUE,
    },
  ]
}
