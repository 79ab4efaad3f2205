/**
 * Request latency of a light route while the same process runs CPU-heavy background tasks, with
 * and without fastify-tasks' admission control. For each measurement the server
 * (`backpressure-server.ts`) and the load generator (`http-load.ts`) run in two child processes;
 * this process reads the server's stats around the measured window and kills both afterwards.
 * Variants alternate in rounds, their order rotated each round.
 */
import { measureLoadedWindow } from './loaded-window.js'
import { LIGHT_PATH, SERVER_STATS_KEYS, STATS_COMMAND, type ServerStats } from './backpressure-protocol.js'
import { BACKPRESSURE_BASELINE, BACKPRESSURE_VARIANTS, type BackpressureVariantId } from './backpressure-variants.js'
import { median } from './median.js'
import { rotate } from './rotate.js'

export interface BackpressureBenchOptions {
  /** Measurements per variant; every round measures each variant once. */
  readonly rounds: number
  readonly connections: number
  readonly warmupSeconds: number
  readonly durationSeconds: number
  /** Called after each measurement. */
  readonly onMeasurement?: () => void
}

/** One measurement of one variant. */
export interface BackpressureSample {
  readonly rps: number
  readonly p50Ms: number
  readonly p99Ms: number
  /** The server's event-loop delay over the measured window, ms. */
  readonly delayP99Ms: number
  readonly delayMaxMs: number
  /** Event-loop utilization over the window, 0–1. */
  readonly utilization: number
  /** Background tasks per second over the window: offered, completed; shed and deferred spawns. */
  readonly offeredPerSecond: number
  readonly completedPerSecond: number
  readonly completed: number
  readonly shedPerSecond: number
  readonly deferredPerSecond: number
  /** At the end of the window: tasks waiting, and the running limit. */
  readonly pending: number
  readonly concurrency: number
}

export interface BackpressureVariantStats {
  /** Medians over the rounds of each field. */
  readonly median: BackpressureSample
  /** Median over the rounds of (this variant's request p99 ÷ the baseline's in the same round). */
  readonly p99ToBaseline: number
  /** The fewest background tasks completed in one measured window. */
  readonly completedMin: number
  readonly samples: readonly BackpressureSample[]
}

export type BackpressureResult = Readonly<Record<BackpressureVariantId, BackpressureVariantStats>>

async function measure(variant: BackpressureVariantId, options: BackpressureBenchOptions): Promise<BackpressureSample> {
  const { load, before, after } = await measureLoadedWindow<ServerStats>(
    {
      script: './backpressure-server.js',
      args: [variant],
      name: `backpressure-server (${variant})`,
      statsCommand: STATS_COMMAND,
      statsKeys: SERVER_STATS_KEYS,
    },
    {
      connections: options.connections,
      pipelining: 1,
      warmupSeconds: options.warmupSeconds,
      durationSeconds: options.durationSeconds,
      path: LIGHT_PATH,
    },
  )
  const a = after.stats
  const b = before.stats
  if (a.notCompleted > 0) throw new Error(`backpressure ${variant}: ${a.notCompleted} background tasks failed, timed out or were dropped`)
  const seconds = (after.at - before.at) / 1000
  const perSecond = (count: number): number => count / seconds
  const active = a.eluActiveMs - b.eluActiveMs
  const idle = a.eluIdleMs - b.eluIdleMs
  return {
    rps: load.requests / load.seconds,
    p50Ms: load.p50Ms,
    p99Ms: load.p99Ms,
    delayP99Ms: a.delayP99Ms,
    delayMaxMs: a.delayMaxMs,
    utilization: active + idle > 0 ? active / (active + idle) : 0,
    offeredPerSecond: perSecond(a.offered - b.offered),
    completedPerSecond: perSecond(a.completed - b.completed),
    completed: a.completed - b.completed,
    shedPerSecond: perSecond(a.overloaded - b.overloaded + (a.queueFull - b.queueFull)),
    deferredPerSecond: perSecond(a.deferred - b.deferred),
    pending: a.pending,
    concurrency: a.concurrency,
  }
}

export async function measureBackpressure(options: BackpressureBenchOptions): Promise<BackpressureResult> {
  /** samples[round][variant] */
  const rounds: Record<BackpressureVariantId, BackpressureSample>[] = []
  for (let round = 0; round < options.rounds; round++) {
    const samples: Partial<Record<BackpressureVariantId, BackpressureSample>> = {}
    for (const variant of rotate(BACKPRESSURE_VARIANTS, round)) {
      samples[variant] = await measure(variant, options)
      options.onMeasurement?.()
    }
    rounds.push(samples as Record<BackpressureVariantId, BackpressureSample>)
  }

  const stats = (variant: BackpressureVariantId): BackpressureVariantStats => {
    const samples = rounds.map((round) => round[variant])
    const of = (field: keyof BackpressureSample): number => median(samples.map((sample) => sample[field]))
    return {
      median: {
        rps: of('rps'),
        p50Ms: of('p50Ms'),
        p99Ms: of('p99Ms'),
        delayP99Ms: of('delayP99Ms'),
        delayMaxMs: of('delayMaxMs'),
        utilization: of('utilization'),
        offeredPerSecond: of('offeredPerSecond'),
        completedPerSecond: of('completedPerSecond'),
        completed: of('completed'),
        shedPerSecond: of('shedPerSecond'),
        deferredPerSecond: of('deferredPerSecond'),
        pending: of('pending'),
        concurrency: of('concurrency'),
      },
      p99ToBaseline: median(rounds.map((round) => round[variant].p99Ms / round[BACKPRESSURE_BASELINE].p99Ms)),
      completedMin: Math.min(...samples.map((sample) => sample.completed)),
      samples,
    }
  }
  return Object.fromEntries(BACKPRESSURE_VARIANTS.map((variant) => [variant, stats(variant)])) as Record<
    BackpressureVariantId,
    BackpressureVariantStats
  >
}
