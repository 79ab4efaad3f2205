/**
 * Request latency of a light route while the same process runs CPU-heavy background tasks, with
 * and without fastify-tasks' admission control. For each measurement the server
 * (`backpressure-server.ts`) and the load generator (`http-load.ts`) run in two child processes;
 * this process reads the server's stats around the measured window and kills both afterwards.
 * Variants alternate in rounds, their order rotated each round.
 */
import { LineChild } from './child-process.js'
import { LIGHT_PATH, SERVER_STATS_KEYS, STATS_COMMAND, type ServerStats } from './backpressure-protocol.js'
import { BACKPRESSURE_BASELINE, BACKPRESSURE_VARIANTS, type BackpressureVariantId } from './backpressure-variants.js'
import { GO_COMMAND, LOAD_RESULT_KEYS, parseNumbers, WARM_LINE, type LoadConfig, type LoadResult } from './http-protocol.js'
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

const START_TIMEOUT_MS = 30_000
const REPLY_TIMEOUT_MS = 10_000
/** Beyond the load's own duration, before a silent load generator counts as hung. */
const RUN_SLACK_MS = 30_000

async function readStats(server: LineChild, name: string): Promise<{ stats: ServerStats; at: number }> {
  server.send(STATS_COMMAND)
  const line = await server.nextLine('its stats', REPLY_TIMEOUT_MS)
  return { stats: parseNumbers<ServerStats>(line, SERVER_STATS_KEYS, `${name} stats`), at: performance.now() }
}

async function measure(variant: BackpressureVariantId, options: BackpressureBenchOptions): Promise<BackpressureSample> {
  const name = `backpressure-server (${variant})`
  const server = new LineChild(name, './backpressure-server.js', [variant])
  try {
    const port = Number(await server.nextLine('its port', START_TIMEOUT_MS))
    if (!Number.isInteger(port) || port <= 0) throw new Error(`${name} printed no valid port`)
    const config: LoadConfig = {
      port,
      connections: options.connections,
      pipelining: 1,
      warmupSeconds: options.warmupSeconds,
      durationSeconds: options.durationSeconds,
      path: LIGHT_PATH,
    }
    const loader = new LineChild(`http-load (${variant})`, './http-load.js', [JSON.stringify(config)])
    try {
      const warm = await loader.nextLine(`"${WARM_LINE}"`, START_TIMEOUT_MS + options.warmupSeconds * 1000)
      if (warm !== WARM_LINE) throw new Error(`http-load (${variant}): expected "${WARM_LINE}", got ${JSON.stringify(warm)}`)
      const before = await readStats(server, name)
      loader.send(GO_COMMAND)
      const line = await loader.nextLine('its result', options.durationSeconds * 1000 + RUN_SLACK_MS)
      const after = await readStats(server, name)
      const load = parseNumbers<LoadResult>(line, LOAD_RESULT_KEYS, `http-load (${variant}) result`)
      if (load.errors > 0 || load.non2xx > 0 || load.requests === 0) {
        throw new Error(`backpressure ${variant}: ${load.requests} 2xx responses, ${load.errors} connection errors, ${load.non2xx} non-2xx`)
      }
      const a = after.stats
      const b = before.stats
      if (a.notCompleted > 0)
        throw new Error(`backpressure ${variant}: ${a.notCompleted} background tasks failed, timed out or were dropped`)
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
    } finally {
      await loader.stop()
    }
  } finally {
    await server.stop()
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
