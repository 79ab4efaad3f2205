/**
 * Limits against a dependency's capacity, the second scenario of the limits benchmark, in this
 * process on real timers: tasks of one name call a {@link CapacityDependency} while a backlog keeps
 * the scheduler's queue from ever emptying. First, under fixed limits, the throughput at each limit,
 * to find the limit that maximizes it; then the scheduler with the default options
 * (`limits-options.ts`) while the dependency's capacity drops and recovers, its limit for the name
 * read every {@link SAMPLE_MS} (`read-limit.ts`).
 */
import { performance } from 'node:perf_hooks'
import { Scheduler, type SchedulerOptions, type TaskContext } from '@fastify-tasks/core'
import { CapacityDependency } from './capacity-dependency.js'
import { collectGarbage } from './gc.js'
import { DEFAULT_SCHEDULER_OPTIONS, fixedLimitOptions } from './limits-options.js'
import { median } from './median.js'
import { readLimit } from './read-limit.js'

export const TASK_NAME = 'dep'
/** The dependency's service time, ms, when it is not overloaded (twice that when it is). */
export const BASE_MS = 20
/** Its capacity, normally and while degraded. */
export const CAPACITY = 40
export const DEGRADED_CAPACITY = 20
/** The fixed limits tried at {@link CAPACITY}; at another capacity, the same multiples of it. */
export const FIXED_LIMITS = [20, 30, 36, 40, 44, 50, 60, 80] as const
/** How long the adaptive run starts under light load, before the phases. */
export const LIGHT_MS = 1_000
/** Tasks kept waiting beyond the limit, topped up every {@link REFILL_MS}. */
export const BACKLOG = 300
export const REFILL_MS = 5
/** A fixed limit's throughput: calls completed over {@link SWEEP_MS}, after {@link SWEEP_WARMUP_MS} not counted. */
export const SWEEP_WARMUP_MS = 250
export const SWEEP_MS = 1_000
/** The default options' run: the dependency's capacity over time. */
export const PHASES: readonly { readonly label: string; readonly capacity: number; readonly ms: number }[] = [
  { label: 'normal', capacity: CAPACITY, ms: 6_000 },
  { label: 'degraded', capacity: DEGRADED_CAPACITY, ms: 4_000 },
  { label: 'recovered', capacity: CAPACITY, ms: 6_000 },
]
/** How often the limit is read. */
export const SAMPLE_MS = 50
/** Each phase is judged on its last this many ms, once the limit had time to move. */
export const TAIL_MS = 3_000

/** A fixed limit and the throughput it got. */
export interface SweepPoint {
  readonly limit: number
  readonly perSecond: number
}

export interface CapacitySweep {
  readonly capacity: number
  readonly points: readonly SweepPoint[]
  /** The point of highest throughput: the maximizing limit, found by measurement. */
  readonly best: SweepPoint
}

export interface PhaseResult {
  readonly label: string
  readonly capacity: number
  readonly ms: number
  /** The name's limit over the phase's last {@link TAIL_MS}: median and range of the readings. */
  readonly limit: number
  readonly limitMin: number
  readonly limitMax: number
  /** Calls completed per second over the same window. */
  readonly perSecond: number
  /** The sweep at this phase's capacity: the limit to be near, the throughput to compare with. */
  readonly best: SweepPoint
}

export interface CapacityResult {
  readonly sweeps: readonly CapacitySweep[]
  readonly phases: readonly PhaseResult[]
}

export interface CapacityOptions {
  /** Called after each fixed limit and after the run with the defaults. */
  readonly onStep?: () => void
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** The tasks of one scheduler against one dependency, with the backlog kept topped up. */
interface Load {
  readonly completed: number
  stop(): Promise<void>
}

/** `inFlight` says how many tasks to keep live (running and waiting) at each refill. */
function startLoad(
  scheduler: Scheduler,
  dependency: CapacityDependency,
  inFlight: () => number = () => readLimit(scheduler, TASK_NAME) + BACKLOG,
): Load {
  let completed = 0
  scheduler.subscribe({
    settled(_task, settlement) {
      if (settlement.outcome === 'completed') completed++
    },
  })
  const task = (context: TaskContext): Promise<void> => dependency.call(context.signal)
  const refill = (): void => {
    const target = inFlight()
    while (scheduler.liveCount < target) scheduler.spawn(TASK_NAME, task)
  }
  refill()
  const timer = setInterval(refill, REFILL_MS)
  return {
    get completed() {
      return completed
    },
    async stop() {
      clearInterval(timer)
      await scheduler.close({ timeout: 0 })
    },
  }
}

async function throughputAt(options: SchedulerOptions, capacity: number): Promise<number> {
  await collectGarbage()
  const load = startLoad(new Scheduler(options), new CapacityDependency(capacity, BASE_MS))
  await sleep(SWEEP_WARMUP_MS)
  const before = { completed: load.completed, at: performance.now() }
  await sleep(SWEEP_MS)
  const perSecond = (load.completed - before.completed) / ((performance.now() - before.at) / 1000)
  await load.stop()
  return perSecond
}

async function sweep(capacity: number, onStep: (() => void) | undefined): Promise<CapacitySweep> {
  const points: SweepPoint[] = []
  for (const multiple of FIXED_LIMITS) {
    const limit = Math.round((multiple * capacity) / CAPACITY)
    points.push({ limit, perSecond: await throughputAt(fixedLimitOptions(limit), capacity) })
    onStep?.()
  }
  const best = points.reduce((a, b) => (b.perSecond > a.perSecond ? b : a))
  return { capacity, points, best }
}

interface Sample {
  /** ms since the run started. */
  readonly at: number
  readonly limit: number
  readonly completed: number
}

/** The run with the default options: the phases one after the other, the limit read every {@link SAMPLE_MS}. */
async function adaptiveRun(): Promise<Sample[]> {
  await collectGarbage()
  const dependency = new CapacityDependency(PHASES[0]!.capacity, BASE_MS)
  const scheduler = new Scheduler(DEFAULT_SCHEDULER_OPTIONS)
  // Light load first (a quarter of the capacity in flight), as a service starts: the baseline an
  // adaptive limit compares with is the run time of an unsaturated dependency.
  let light = true
  const load = startLoad(scheduler, dependency, () => (light ? PHASES[0]!.capacity / 4 : readLimit(scheduler, TASK_NAME) + BACKLOG))
  await sleep(LIGHT_MS)
  light = false
  const origin = performance.now()
  const samples: Sample[] = [{ at: 0, limit: readLimit(scheduler, TASK_NAME), completed: 0 }]
  const sampler = setInterval(() => {
    samples.push({ at: performance.now() - origin, limit: readLimit(scheduler, TASK_NAME), completed: load.completed })
  }, SAMPLE_MS)
  let end = 0
  const switches: NodeJS.Timeout[] = []
  for (const phase of PHASES) {
    const capacity = phase.capacity
    switches.push(
      setTimeout(() => {
        dependency.capacity = capacity
      }, end),
    )
    end += phase.ms
  }
  await sleep(end - (performance.now() - origin))
  clearInterval(sampler)
  samples.push({ at: performance.now() - origin, limit: readLimit(scheduler, TASK_NAME), completed: load.completed })
  for (const timer of switches) clearTimeout(timer)
  await load.stop()
  return samples
}

/** The readings in (from, to], and the throughput between the first and the last of them. */
function readings(samples: readonly Sample[], from: number, to: number): { limits: number[]; perSecond: number } {
  const inside = samples.filter((sample) => sample.at > from && sample.at <= to)
  if (inside.length < 2) throw new Error(`capacity: fewer than 2 readings in ${from}–${to} ms`)
  const first = inside[0]!
  const last = inside[inside.length - 1]!
  return { limits: inside.map((sample) => sample.limit), perSecond: (last.completed - first.completed) / ((last.at - first.at) / 1000) }
}

export async function measureCapacity(options: CapacityOptions = {}): Promise<CapacityResult> {
  const sweeps: CapacitySweep[] = []
  for (const capacity of new Set(PHASES.map((phase) => phase.capacity))) sweeps.push(await sweep(capacity, options.onStep))
  const samples = await adaptiveRun()
  options.onStep?.()
  let end = 0
  const phases = PHASES.map((phase): PhaseResult => {
    end += phase.ms
    const { limits, perSecond } = readings(samples, end - TAIL_MS, end)
    return {
      ...phase,
      limit: median(limits),
      limitMin: Math.min(...limits),
      limitMax: Math.max(...limits),
      perSecond,
      best: sweeps.find((s) => s.capacity === phase.capacity)!.best,
    }
  })
  return { sweeps, phases }
}
