/**
 * Spawn-to-settle cost: the time from the first spawn of a batch to the settlement of its last task,
 * divided by the batch size, for each spawn pattern and task kind. All contenders run in one process,
 * interleaved round by round.
 */
import { Scheduler } from '@fastify-tasks/core'
import fastq from 'fastq'
import PQueue from 'p-queue'
import { VARIANT_OPTIONS } from './ablations.js'
import { byContender, CONTENDERS, type ContenderId, type SchedulerVariantId } from './contenders.js'
import { collectGarbage } from './gc.js'
import { median } from './median.js'
import { rotate } from './rotate.js'
import { SPAWN_PATTERNS, type SpawnPatternId } from './spawn-patterns.js'
import { TASK_KINDS, type Task, type TaskKindId } from './task-kinds.js'

export interface SpawnCostOptions {
  /** Tasks per batch. */
  readonly tasks: number
  readonly concurrency: number
  /** Rounds in all, warm-up included. */
  readonly rounds: number
  /** Leading rounds whose samples are discarded. */
  readonly warmup: number
  /** Called after each round. */
  readonly onRound?: (round: number) => void
}

export interface SpawnCostStats {
  /** Median µs per task over the measured rounds. */
  readonly median: number
  readonly min: number
  readonly max: number
}

export type SpawnCostByContender = Readonly<Record<ContenderId, SpawnCostStats>>

export type SpawnCostResult = Readonly<Record<SpawnPatternId, Readonly<Record<TaskKindId, SpawnCostByContender>>>>

const OURS_COMPLETION = 'a counter in a subscribe({ settled }) listener (handle.settled would add a promise per task)'

/** How each contender learns that the whole batch settled. Printed with the results. */
export const COMPLETION_METHODS: Readonly<Record<ContenderId, string>> = {
  set: 'a counter in each promise’s .then',
  fastq: 'await queue.drained() after the last spawn',
  pqueue: 'await queue.onIdle() after the last spawn',
  ours: OURS_COMPLETION,
  oursSitesOff: OURS_COMPLETION,
  oursNoDeadline: OURS_COMPLETION,
  oursSitesAlways: OURS_COMPLETION,
}

/**
 * One contender, ready to run a batch of `tasks`. Construction and `dispose` are not timed; the
 * `spawn` calls and `settled` are.
 */
interface Trial {
  /** Spawns `count` more tasks of the batch, synchronously. */
  spawn(task: Task, count: number): void
  /** Called once the whole batch was spawned; resolves when its last task has settled. */
  settled(): Promise<void>
  dispose(): Promise<void>
}

const runTask = (task: Task): Promise<number> => task()

const noop = (): void => {}

function setTrial({ tasks }: SpawnCostOptions): Trial {
  const live = new Set<Promise<number>>()
  let settled = 0
  let resolveAll: () => void = noop
  const all = new Promise<void>((resolve) => {
    resolveAll = resolve
  })
  // Curried so the per-task closure is anonymous: tsx compiles with esbuild's `keepNames`, which
  // wraps every named function expression in a `__name()` call (a defineProperty per closure,
  // ~150 B more each) and would inflate the floor. The contenders' own code is plain JS.
  const untrack = (promise: Promise<number>) => (): void => {
    live.delete(promise)
    if (++settled === tasks) resolveAll()
  }
  return {
    spawn(task, count) {
      for (let i = 0; i < count; i++) {
        const promise = task()
        live.add(promise)
        const done = untrack(promise)
        promise.then(done, done)
      }
    },
    settled: () => all,
    dispose: async () => {},
  }
}

function fastqTrial({ concurrency }: SpawnCostOptions): Trial {
  const queue = fastq.promise(runTask, concurrency)
  return {
    spawn(task, count) {
      for (let i = 0; i < count; i++) void queue.push(task)
    },
    settled: () => queue.drained(),
    dispose: async () => {},
  }
}

function pqueueTrial({ concurrency }: SpawnCostOptions): Trial {
  const queue = new PQueue({ concurrency })
  return {
    spawn(task, count) {
      for (let i = 0; i < count; i++) void queue.add(task)
    },
    settled: () => queue.onIdle(),
    dispose: async () => {},
  }
}

function schedulerTrial(variant: SchedulerVariantId, { concurrency, tasks }: SpawnCostOptions): Trial {
  // The variant's options; the queue bound is raised so a whole batch fits.
  const scheduler = new Scheduler({ ...VARIANT_OPTIONS[variant], concurrency, maxQueue: tasks })
  let settled = 0
  let resolveAll: () => void = noop
  const all = new Promise<void>((resolve) => {
    resolveAll = resolve
  })
  const unsubscribe = scheduler.subscribe({
    settled: () => {
      if (++settled !== tasks) return
      unsubscribe()
      resolveAll()
    },
  })
  return {
    spawn(task, count) {
      for (let i = 0; i < count; i++) scheduler.spawn('bench', task)
    },
    settled: () => all,
    dispose: async () => {
      if (scheduler.liveCount !== 0) throw new Error(`${scheduler.liveCount} tasks still live after the batch settled`)
      await scheduler.close()
    },
  }
}

const TRIALS: Readonly<Record<ContenderId, (options: SpawnCostOptions) => Trial>> = {
  set: setTrial,
  fastq: fastqTrial,
  pqueue: pqueueTrial,
  ours: (options) => schedulerTrial('ours', options),
  oursSitesOff: (options) => schedulerTrial('oursSitesOff', options),
  oursNoDeadline: (options) => schedulerTrial('oursNoDeadline', options),
  oursSitesAlways: (options) => schedulerTrial('oursSitesAlways', options),
}

export async function measureSpawnCost(options: SpawnCostOptions): Promise<SpawnCostResult> {
  const samples = new Map<string, number[]>()
  const sampleKey = (pattern: SpawnPatternId, kind: TaskKindId, id: ContenderId): string => `${pattern}/${kind}/${id}`
  for (const pattern of SPAWN_PATTERNS) {
    for (const kind of TASK_KINDS) for (const id of CONTENDERS) samples.set(sampleKey(pattern.id, kind.id, id), [])
  }

  for (let round = 0; round < options.rounds; round++) {
    const order = rotate(CONTENDERS, round)
    for (const pattern of SPAWN_PATTERNS) {
      for (const kind of TASK_KINDS) {
        for (const id of order) {
          const trial = TRIALS[id](options)
          await collectGarbage()
          const start = performance.now()
          await pattern.spawn(options.tasks, (size) => trial.spawn(kind.task, size))
          await trial.settled()
          const elapsedMs = performance.now() - start
          await trial.dispose()
          if (round >= options.warmup) samples.get(sampleKey(pattern.id, kind.id, id))!.push((elapsedMs * 1000) / options.tasks)
        }
      }
    }
    options.onRound?.(round)
  }

  const stats = (pattern: SpawnPatternId, kind: TaskKindId, id: ContenderId): SpawnCostStats => {
    const values = samples.get(sampleKey(pattern, kind, id))!
    return { median: median(values), min: Math.min(...values), max: Math.max(...values) }
  }
  const byKind = (pattern: SpawnPatternId): Record<TaskKindId, SpawnCostByContender> => ({
    immediate: byContender((id) => stats(pattern, 'immediate', id)),
    setImmediate: byContender((id) => stats(pattern, 'setImmediate', id)),
  })
  return { burst: byKind('burst'), steady: byKind('steady') }
}
