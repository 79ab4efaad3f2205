/**
 * Heavy-tail I/O, the first scenario of the limits benchmark, in this process on real timers: a
 * producer offers calls to a {@link HeavyTailService} at a fixed rate for a while, with a failure
 * window in the middle, either untracked (each call made directly) or as tasks of a `Scheduler` with
 * the default options (`limits-options.ts`). Measured: how long tasks wait from spawn to start, and
 * how many calls complete by the time the slowest one made could have.
 */
import { performance } from 'node:perf_hooks'
import { AdmissionError, Scheduler, type TaskContext } from '@fastify-tasks/core'
import { collectGarbage } from './gc.js'
import { HeavyTailService, SLOW_MAX_MS } from './heavy-tail-service.js'
import { DEFAULT_SCHEDULER_OPTIONS } from './limits-options.js'
import { median } from './median.js'
import { censoredPercentile } from './percentile.js'
import { rotate } from './rotate.js'
import { seededRandom } from './seeded-random.js'

export const HEAVY_TAIL_VARIANTS = ['untracked', 'scheduler'] as const

export type HeavyTailVariantId = (typeof HEAVY_TAIL_VARIANTS)[number]

export const HEAVY_TAIL_VARIANT_LABELS: Readonly<Record<HeavyTailVariantId, string>> = {
  untracked: 'untracked calls',
  scheduler: 'new Scheduler() (defaults)',
}

/** Calls offered per second, whatever happens to them (like requests arriving). */
export const OFFERED_PER_SECOND = 1_000
/** Interval of the producer's timer; it offers the calls that fell due since its last run. */
export const PRODUCER_TICK_MS = 10
/** How long the producer runs. */
export const PRODUCE_MS = 15_000
/** The failure window, ms after the producer starts. */
export const FAIL_FROM_MS = 6_000
export const FAIL_UNTIL_MS = 9_000
/** After the last call is offered: the slowest call's latency, and a second more. Calls not settled by then are not counted. */
export const SETTLE_MS = SLOW_MAX_MS + 1_000
export const TASK_NAME = 'call-service'
/** Every run draws the same latencies, in call order. */
const SEED = 0x5eed_0001

/** One run of one variant. */
export interface HeavyTailRun {
  /** Calls offered by the producer. */
  readonly offered: number
  /** Calls that resolved, and that rejected (the service was down, or the call was aborted), within the run. */
  readonly completed: number
  readonly failed: number
  /** Spawns the scheduler refused (`AdmissionError`: queue full); 0 untracked. */
  readonly refused: number
  /** Tasks admitted that had not started when the run ended (then dropped by `close()`); 0 untracked. */
  readonly neverStarted: number
  /** Calls not settled when the run ended: untracked, in flight; with the scheduler, waiting or running. */
  readonly unsettled: number
  /** Spawn-to-start wait of every admitted task, ms (the scheduler's `started` event); those never started count as their wait so far. */
  readonly wait?: { readonly p50Ms: number; readonly p99Ms: number; readonly p50AtLeast: boolean; readonly p99AtLeast: boolean }
  /** From the first offer to the end of the run. */
  readonly seconds: number
}

export interface HeavyTailResult {
  readonly runs: Readonly<Record<HeavyTailVariantId, readonly HeavyTailRun[]>>
  /** Medians over the runs. */
  readonly completed: Readonly<Record<HeavyTailVariantId, number>>
  readonly failed: Readonly<Record<HeavyTailVariantId, number>>
  readonly refused: number
  readonly neverStarted: number
  readonly waitP50Ms: number
  readonly waitP99Ms: number
  /** Some run's percentile was a lower bound (tasks still waiting when it ended): the median may be too. */
  readonly waitP50AtLeast: boolean
  readonly waitP99AtLeast: boolean
  /** The scheduler's completed calls ÷ untracked's, per round: median and range. */
  readonly completedRatio: { readonly median: number; readonly min: number; readonly max: number }
}

export interface HeavyTailOptions {
  /** Runs per variant; every round runs each variant once, order rotated. */
  readonly rounds: number
  /** Called after each run. */
  readonly onRun?: () => void
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Resolves when `until` does, or after `ms`, whichever comes first. */
async function within(until: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms)
  })
  await Promise.race([until, timeout])
  clearTimeout(timer)
}

/** Calls `offer` at {@link OFFERED_PER_SECOND} from `origin` for {@link PRODUCE_MS}, on the real clock; resolves after the last. */
function produce(origin: number, offer: () => void): Promise<void> {
  const total = (OFFERED_PER_SECOND * PRODUCE_MS) / 1000
  let offered = 0
  return new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - origin) * OFFERED_PER_SECOND) / 1000))
      while (offered < due) {
        offered++
        offer()
      }
      if (offered === total) {
        clearInterval(timer)
        resolve()
      }
    }, PRODUCER_TICK_MS)
  })
}

function newService(origin: number): HeavyTailService {
  return new HeavyTailService({ random: seededRandom(SEED), origin, failFromMs: FAIL_FROM_MS, failUntilMs: FAIL_UNTIL_MS })
}

async function runUntracked(): Promise<HeavyTailRun> {
  const origin = performance.now()
  const service = newService(origin)
  let offered = 0
  let completed = 0
  let failed = 0
  let inFlight = 0
  let onSettledAll: (() => void) | undefined
  const settledOne = (): void => {
    if (--inFlight === 0) onSettledAll?.()
  }
  const ok = (): void => {
    completed++
    settledOne()
  }
  const fail = (): void => {
    failed++
    settledOne()
  }
  await produce(origin, () => {
    offered++
    inFlight++
    void service.call().then(ok, fail)
  })
  const settledAll = new Promise<void>((resolve) => {
    if (inFlight === 0) resolve()
    else onSettledAll = resolve
  })
  await within(settledAll, SETTLE_MS)
  return { offered, completed, failed, refused: 0, neverStarted: 0, unsettled: inFlight, seconds: (performance.now() - origin) / 1000 }
}

async function runScheduler(): Promise<HeavyTailRun> {
  const scheduler = new Scheduler(DEFAULT_SCHEDULER_OPTIONS)
  const waits: number[] = []
  /** When each admitted task was spawned (read just after `spawn` returns), in spawn order. */
  const spawnedAt: number[] = []
  let offered = 0
  let refused = 0
  let completed = 0
  let failed = 0
  scheduler.subscribe({
    started(_task, queueWaitMs) {
      waits.push(queueWaitMs)
    },
    settled(_task, settlement) {
      if (settlement.outcome === 'completed') completed++
      else failed++
    },
  })
  const origin = performance.now()
  const service = newService(origin)
  const task = (context: TaskContext): Promise<void> => service.call(context.signal)
  await produce(origin, () => {
    offered++
    try {
      scheduler.spawn(TASK_NAME, task)
      spawnedAt.push(performance.now())
    } catch (error) {
      if (!(error instanceof AdmissionError)) throw error
      refused++
    }
  })
  await within(scheduler.onIdle(), SETTLE_MS)
  const end = performance.now()
  const counted = { completed, failed }
  const unsettled = spawnedAt.length - completed - failed
  // One name, one priority: tasks start in spawn order, so those not started are the last spawned.
  const stillWaiting = spawnedAt.slice(waits.length).map((at) => end - at)
  const p50 = censoredPercentile(waits, stillWaiting, 50)
  const p99 = censoredPercentile(waits, stillWaiting, 99)
  await scheduler.close({ timeout: 0 })
  return {
    offered,
    ...counted,
    refused,
    neverStarted: stillWaiting.length,
    unsettled,
    wait: { p50Ms: p50.value, p99Ms: p99.value, p50AtLeast: p50.lowerBound, p99AtLeast: p99.lowerBound },
    seconds: (end - origin) / 1000,
  }
}

const RUNS: Readonly<Record<HeavyTailVariantId, () => Promise<HeavyTailRun>>> = {
  untracked: runUntracked,
  scheduler: runScheduler,
}

export async function measureHeavyTail(options: HeavyTailOptions): Promise<HeavyTailResult> {
  /** rounds[round][variant] */
  const rounds: Record<HeavyTailVariantId, HeavyTailRun>[] = []
  for (let round = 0; round < options.rounds; round++) {
    const runs: Partial<Record<HeavyTailVariantId, HeavyTailRun>> = {}
    for (const variant of rotate(HEAVY_TAIL_VARIANTS, round)) {
      await collectGarbage()
      runs[variant] = await RUNS[variant]()
      options.onRun?.()
      // Timers of the last run's calls, if any are left, are not this run's.
      await sleep(100)
    }
    rounds.push(runs as Record<HeavyTailVariantId, HeavyTailRun>)
  }
  const runsOf = (variant: HeavyTailVariantId): HeavyTailRun[] => rounds.map((round) => round[variant])
  const of = (variant: HeavyTailVariantId, field: 'completed' | 'failed' | 'refused' | 'neverStarted'): number =>
    median(runsOf(variant).map((run) => run[field]))
  const waits = runsOf('scheduler').map((run) => run.wait!)
  const ratios = rounds.map((round) => round.scheduler.completed / round.untracked.completed)
  return {
    runs: { untracked: runsOf('untracked'), scheduler: runsOf('scheduler') },
    completed: { untracked: of('untracked', 'completed'), scheduler: of('scheduler', 'completed') },
    failed: { untracked: of('untracked', 'failed'), scheduler: of('scheduler', 'failed') },
    refused: of('scheduler', 'refused'),
    neverStarted: of('scheduler', 'neverStarted'),
    waitP50Ms: median(waits.map((wait) => wait.p50Ms)),
    waitP99Ms: median(waits.map((wait) => wait.p99Ms)),
    waitP50AtLeast: waits.some((wait) => wait.p50AtLeast),
    waitP99AtLeast: waits.some((wait) => wait.p99AtLeast),
    completedRatio: { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) },
  }
}
