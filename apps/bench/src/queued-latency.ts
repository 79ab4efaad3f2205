/**
 * Request latency of a hello world while the app's scheduler holds a long queue, the third scenario
 * of the limits benchmark. For each measurement the server (`queued-server.ts`) and the load
 * generator (`http-load.ts`) run in two child processes; this process reads the server's stats
 * around the measured window and kills both afterwards. Variants alternate in rounds, their order
 * rotated each round.
 */
import { measureLoadedWindow } from './loaded-window.js'
import { MAX_BUCKETS_PER_MS } from './latency-histogram.js'
import { median } from './median.js'
import { QUEUED_SERVER_STATS_KEYS, STATS_COMMAND, type QueuedServerStats } from './queued-protocol.js'
import { QUEUED_BASELINE, QUEUED_VARIANTS, type QueuedVariantId } from './queued-variants.js'
import { rotate } from './rotate.js'

export interface QueuedLatencyOptions {
  /** Measurements per variant; every round measures each variant once. */
  readonly rounds: number
  readonly connections: number
  readonly warmupSeconds: number
  readonly durationSeconds: number
  /** Called after each measurement. */
  readonly onMeasurement?: () => void
}

/** One measurement of one variant. */
export interface QueuedSample {
  readonly rps: number
  /** Latency percentiles, ms, at 1 µs resolution. */
  readonly p50Ms: number
  readonly p99Ms: number
  /** Server CPU time (user + system) over the measured window ÷ 2xx responses, µs. */
  readonly serverCpuUs: number
  /** Tasks waiting and running at the end of the window. */
  readonly pending: number
  readonly running: number
}

export interface QueuedVariantStats {
  /** Medians over the rounds of each field. */
  readonly median: QueuedSample
  /** Per-round ratio of this variant's p99 to the baseline's in the same round: median and range. */
  readonly p99Ratio: { readonly median: number; readonly min: number; readonly max: number }
  /** Per-round difference of server µs per request from the baseline's: median. */
  readonly addedCpuUs: number
  readonly samples: readonly QueuedSample[]
}

export type QueuedLatencyResult = Readonly<Record<QueuedVariantId, QueuedVariantStats>>

async function measure(variant: QueuedVariantId, options: QueuedLatencyOptions): Promise<QueuedSample> {
  const { load, before, after } = await measureLoadedWindow<QueuedServerStats>(
    {
      script: './queued-server.js',
      args: [variant],
      name: `queued-server (${variant})`,
      statsCommand: STATS_COMMAND,
      statsKeys: QUEUED_SERVER_STATS_KEYS,
    },
    {
      connections: options.connections,
      pipelining: 1,
      warmupSeconds: options.warmupSeconds,
      durationSeconds: options.durationSeconds,
      latencyBucketsPerMs: MAX_BUCKETS_PER_MS,
    },
  )
  const cpuUs = after.stats.user + after.stats.system - (before.stats.user + before.stats.system)
  return {
    rps: load.requests / load.seconds,
    p50Ms: load.p50Ms,
    p99Ms: load.p99Ms,
    serverCpuUs: cpuUs / load.requests,
    pending: after.stats.pending,
    running: after.stats.running,
  }
}

export async function measureQueuedLatency(options: QueuedLatencyOptions): Promise<QueuedLatencyResult> {
  /** samples[round][variant] */
  const rounds: Record<QueuedVariantId, QueuedSample>[] = []
  for (let round = 0; round < options.rounds; round++) {
    const samples: Partial<Record<QueuedVariantId, QueuedSample>> = {}
    for (const variant of rotate(QUEUED_VARIANTS, round)) {
      samples[variant] = await measure(variant, options)
      options.onMeasurement?.()
    }
    rounds.push(samples as Record<QueuedVariantId, QueuedSample>)
  }

  const stats = (variant: QueuedVariantId): QueuedVariantStats => {
    const samples = rounds.map((round) => round[variant])
    const of = (field: keyof QueuedSample): number => median(samples.map((sample) => sample[field]))
    const ratios = rounds.map((round) => round[variant].p99Ms / round[QUEUED_BASELINE].p99Ms)
    return {
      median: {
        rps: of('rps'),
        p50Ms: of('p50Ms'),
        p99Ms: of('p99Ms'),
        serverCpuUs: of('serverCpuUs'),
        pending: of('pending'),
        running: of('running'),
      },
      p99Ratio: { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) },
      addedCpuUs: median(rounds.map((round) => round[variant].serverCpuUs - round[QUEUED_BASELINE].serverCpuUs)),
      samples,
    }
  }
  return Object.fromEntries(QUEUED_VARIANTS.map((variant) => [variant, stats(variant)])) as Record<QueuedVariantId, QueuedVariantStats>
}
