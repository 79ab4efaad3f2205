/**
 * Spawn-to-settle cost: the time from the first spawn of a batch to the settlement of its last task's
 * promise, divided by the batch size, for each spawn pattern and task kind. All contenders run in one
 * process, interleaved round by round, their order rotated.
 */
import { Scheduler } from '@fastify-tasks/core'
import fastq from 'fastq'
import PQueue from 'p-queue'
import { VARIANT_OPTIONS } from './ablations.js'
import { byContender, CONTENDERS, type ContenderId, type SchedulerVariantId } from './contenders.js'
import { collectGarbage } from './gc.js'
import { median } from './median.js'
import { rotate } from './rotate.js'
import { BURST_TASKS, SPAWN_PATTERNS, type Push, type SpawnPatternId } from './spawn-patterns.js'
import { TASK_KINDS, type Task, type TaskKindId } from './task-kinds.js'

export interface SpawnCostOptions {
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
  /** µs per task of each measured round, in round order: for per-round ratios between contenders. */
  readonly byRound: readonly number[]
}

export type SpawnCostByContender = Readonly<Record<ContenderId, SpawnCostStats>>

export type SpawnCostResult = Readonly<Record<SpawnPatternId, Readonly<Record<TaskKindId, SpawnCostByContender>>>>

/** What each contender's per-task promise is. Printed with the results. */
export const COMPLETION_PROMISES: Readonly<Record<ContenderId, string>> = {
  set: 'the task’s own promise, kept in a Set and removed in its .then (the floor; no limit, no queue)',
  fastq: 'the promise of queue.push(task)',
  pqueue: 'the promise of queue.add(task)',
  ours: 'handle.settled of scheduler.spawn(name, task)',
  oursSitesOff: 'handle.settled',
  oursNoDeadline: 'handle.settled',
  oursNoNameLimits: 'handle.settled',
  oursSitesAlways: 'handle.settled',
}

/** One contender, ready to run a batch. Construction and `dispose` are not timed; the pushes are. */
interface Trial {
  readonly push: Push
  dispose(): Promise<void>
}

const runTask = (task: Task): Promise<number> => task()

function setTrial(): Trial {
  const live = new Set<Promise<number>>()
  return {
    push(task) {
      const promise = task()
      live.add(promise)
      const untrack = (): void => {
        live.delete(promise)
      }
      promise.then(untrack, untrack)
      return promise
    },
    dispose: async () => {
      if (live.size !== 0) throw new Error(`${live.size} promises still tracked after the batch settled`)
    },
  }
}

function fastqTrial({ concurrency }: SpawnCostOptions): Trial {
  const queue = fastq.promise(runTask, concurrency)
  return { push: (task) => queue.push(task), dispose: async () => {} }
}

function pqueueTrial({ concurrency }: SpawnCostOptions): Trial {
  const queue = new PQueue({ concurrency })
  return { push: (task) => queue.add(task), dispose: async () => {} }
}

function schedulerTrial(variant: SchedulerVariantId, { concurrency }: SpawnCostOptions): Trial {
  // The variant's options; the queue bound is raised so a whole burst fits.
  const scheduler = new Scheduler({ ...VARIANT_OPTIONS[variant], concurrency, maxQueue: BURST_TASKS })
  return {
    push: (task) => scheduler.spawn('bench', task).settled,
    dispose: async () => {
      if (scheduler.liveCount !== 0) throw new Error(`${scheduler.liveCount} tasks still live after the batch settled`)
      await scheduler.close()
    },
  }
}

const TRIALS: Readonly<Record<ContenderId, (options: SpawnCostOptions) => Trial>> = {
  set: () => setTrial(),
  fastq: fastqTrial,
  pqueue: pqueueTrial,
  ours: (options) => schedulerTrial('ours', options),
  oursSitesOff: (options) => schedulerTrial('oursSitesOff', options),
  oursNoDeadline: (options) => schedulerTrial('oursNoDeadline', options),
  oursNoNameLimits: (options) => schedulerTrial('oursNoNameLimits', options),
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
          await pattern.run(trial.push, kind.task, options.concurrency)
          const elapsedMs = performance.now() - start
          await trial.dispose()
          if (round >= options.warmup) samples.get(sampleKey(pattern.id, kind.id, id))!.push((elapsedMs * 1000) / pattern.tasks)
        }
      }
    }
    options.onRound?.(round)
  }

  const stats = (pattern: SpawnPatternId, kind: TaskKindId, id: ContenderId): SpawnCostStats => {
    const values = samples.get(sampleKey(pattern, kind, id))!
    return { median: median(values), min: Math.min(...values), max: Math.max(...values), byRound: values }
  }
  const byKind = (pattern: SpawnPatternId): Record<TaskKindId, SpawnCostByContender> => ({
    immediate: byContender((id) => stats(pattern, 'immediate', id)),
    setImmediate: byContender((id) => stats(pattern, 'setImmediate', id)),
  })
  return { burst: byKind('burst'), steady: byKind('steady') }
}
