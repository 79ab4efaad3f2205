/**
 * The limits part of the benchmark: how the scheduler's limit on running tasks serves I/O-bound work.
 * Three scenarios, one after the other: heavy-tail I/O (`heavy-tail-io.ts`), a dependency whose
 * capacity changes (`capacity-limits.ts`), and request latency next to a long queue
 * (`queued-latency.ts`).
 */
import { measureCapacity, type CapacityResult } from './capacity-limits.js'
import { measureHeavyTail, type HeavyTailResult } from './heavy-tail-io.js'
import { measureQueuedLatency, type QueuedLatencyResult } from './queued-latency.js'

export interface LimitsOptions {
  /** Runs of each heavy-tail variant. */
  readonly heavyTailRounds: number
  /** Rounds of the queued-server scenario, and its load. */
  readonly queuedRounds: number
  readonly queuedConnections: number
  readonly queuedWarmupSeconds: number
  readonly queuedDurationSeconds: number
  /** Called after each run or measurement. */
  readonly onStep?: () => void
}

export interface LimitsResult {
  readonly heavyTail: HeavyTailResult
  readonly capacity: CapacityResult
  readonly queued: QueuedLatencyResult
}

export async function measureLimits(options: LimitsOptions): Promise<LimitsResult> {
  const step = options.onStep
  const heavyTail = await measureHeavyTail({ rounds: options.heavyTailRounds, ...(step === undefined ? {} : { onRun: step }) })
  const capacity = await measureCapacity(step === undefined ? {} : { onStep: step })
  const queued = await measureQueuedLatency({
    rounds: options.queuedRounds,
    connections: options.queuedConnections,
    warmupSeconds: options.queuedWarmupSeconds,
    durationSeconds: options.queuedDurationSeconds,
    ...(step === undefined ? {} : { onMeasurement: step }),
  })
  return { heavyTail, capacity, queued }
}
