/**
 * Heap bytes per live pending task: one slot is held by a task that never settles on its own, a
 * batch of tasks is queued behind it, and the `heapUsed` growth (after full collections) is divided
 * by the batch size.
 */
import { Scheduler } from '@fastify-tasks/core'
import fastq from 'fastq'
import PQueue from 'p-queue'
import { VARIANT_OPTIONS } from './ablations.js'
import { byContender, CONTENDERS, type ContenderId, type SchedulerVariantId } from './contenders.js'
import { createGate } from './gate.js'
import { collectGarbage } from './gc.js'
import { median } from './median.js'
import { resolveAtOnce, type Task } from './task-kinds.js'

export interface HeapPerTaskOptions {
  /** Pending tasks per measurement. */
  readonly tasks: number
  /** Measurements per contender; the median is reported. */
  readonly rounds: number
}

/** Median heap bytes per live pending task. */
/** Heap bytes per live task, by contender: queued behind a held slot, and running (each holding a slot). */
export interface HeapPerTaskResult {
  readonly pending: Readonly<Record<ContenderId, number>>
  readonly running: Readonly<Record<ContenderId, number>>
}

const OURS_SETUP = 'concurrency 1, slot held by a task that ends on abort; close({ timeout: 0 }) drops the rest'

/** How each contender is kept pending. Printed with the results. */
export const PENDING_SETUPS: Readonly<Record<ContenderId, string>> = {
  set: 'never-resolving promises, each in a Set with a removing .then',
  fastq: 'concurrency 1, slot held by a gated task; queue.kill() afterwards',
  pqueue: 'concurrency 1, slot held by a gated task; queue.clear() afterwards',
  ours: OURS_SETUP,
  oursSitesOff: OURS_SETUP,
  oursNoDeadline: OURS_SETUP,
  oursNoNameLimits: OURS_SETUP,
  oursSitesAlways: OURS_SETUP,
}

/** A contender with its only slot blocked, created before the baseline reading. */
/** How the running tasks are kept live. Printed with the results. */
export const RUNNING_SETUP =
  'concurrency = the batch, every task an async function awaiting one shared gate promise; the gate opened afterwards'

interface PendingTrial {
  /** Queues `count` tasks that stay pending. */
  fill(count: number): void
  /** Drops the pending tasks and frees the slot. */
  release(): Promise<void>
}

const runTask = (task: Task): Promise<number> => task()
const neverSettle = (): void => {}

function schedulerTrial(variant: SchedulerVariantId, tasks: number): PendingTrial {
  const scheduler = new Scheduler({ ...VARIANT_OPTIONS[variant], concurrency: 1, maxQueue: tasks })
  // The blocker has no deadline so it cannot time out mid-measurement; it ends when close() aborts it.
  scheduler.spawn(
    'blocker',
    ({ signal }) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })),
    { timeout: Infinity },
  )
  return {
    fill(count) {
      for (let i = 0; i < count; i++) scheduler.spawn('pending', resolveAtOnce)
    },
    release: async () => {
      const report = await scheduler.close({ timeout: 0 })
      if (report.dropped !== tasks || scheduler.liveCount !== 0) {
        throw new Error(`close() dropped ${report.dropped} of ${tasks} pending tasks, ${scheduler.liveCount} still live`)
      }
    },
  }
}

/** The floor: promises from `make`, each kept in a Set and removed by its own `.then`; `open` lets them settle. */
function setTrial(make: () => Promise<number>, open?: () => void): PendingTrial {
  const live = new Set<Promise<number>>()
  // Curried: one closure per task, the floor's whole bookkeeping.
  const untrack = (promise: Promise<number>) => (): void => {
    live.delete(promise)
  }
  return {
    fill(count) {
      for (let i = 0; i < count; i++) {
        const promise = make()
        live.add(promise)
        const done = untrack(promise)
        promise.then(done, done)
      }
    },
    release: async () => {
      if (open === undefined) live.clear()
      else {
        open()
        await Promise.all(live)
      }
    },
  }
}

const TRIALS: Readonly<Record<ContenderId, (tasks: number) => PendingTrial>> = {
  set: () => setTrial(() => new Promise<number>(neverSettle)),

  fastq: () => {
    const gate = createGate()
    const queue = fastq.promise(runTask, 1)
    void queue.push(() => gate.promise)
    return {
      fill(count) {
        for (let i = 0; i < count; i++) void queue.push(resolveAtOnce)
      },
      release: async () => {
        queue.kill()
        gate.open()
        await queue.drained()
      },
    }
  },

  pqueue: () => {
    const gate = createGate()
    const queue = new PQueue({ concurrency: 1 })
    void queue.add(() => gate.promise)
    return {
      fill(count) {
        for (let i = 0; i < count; i++) void queue.add(resolveAtOnce)
      },
      release: async () => {
        queue.clear()
        gate.open()
        await queue.onIdle()
      },
    }
  },

  ours: (tasks) => schedulerTrial('ours', tasks),
  oursSitesOff: (tasks) => schedulerTrial('oursSitesOff', tasks),
  oursNoDeadline: (tasks) => schedulerTrial('oursNoDeadline', tasks),
  oursNoNameLimits: (tasks) => schedulerTrial('oursNoNameLimits', tasks),
  oursSitesAlways: (tasks) => schedulerTrial('oursSitesAlways', tasks),
}

/** Every task of the batch running, all awaiting one gate: what a live running task costs. */
function runningTrial(id: ContenderId, tasks: number): PendingTrial {
  const gate = createGate()
  // A promise of its own per task, as a task function awaiting something makes.
  const blocked = async (): Promise<number> => gate.promise
  if (id === 'set') return setTrial(blocked, () => gate.open())
  if (id === 'fastq') {
    const queue = fastq.promise(runTask, tasks)
    return {
      fill(count) {
        for (let i = 0; i < count; i++) void queue.push(blocked)
      },
      release: async () => {
        gate.open()
        await queue.drained()
      },
    }
  }
  if (id === 'pqueue') {
    const queue = new PQueue({ concurrency: tasks })
    return {
      fill(count) {
        for (let i = 0; i < count; i++) void queue.add(blocked)
      },
      release: async () => {
        gate.open()
        await queue.onIdle()
      },
    }
  }
  const scheduler = new Scheduler({ ...VARIANT_OPTIONS[id], concurrency: tasks, maxQueue: tasks })
  return {
    fill(count) {
      for (let i = 0; i < count; i++) scheduler.spawn('running', blocked)
    },
    release: async () => {
      gate.open()
      await scheduler.onIdle()
      await scheduler.close()
    },
  }
}

export async function measureHeapPerTask(options: HeapPerTaskOptions): Promise<HeapPerTaskResult> {
  const pending = new Map<ContenderId, number[]>(CONTENDERS.map((id) => [id, []]))
  const running = new Map<ContenderId, number[]>(CONTENDERS.map((id) => [id, []]))
  const measure = async (trial: PendingTrial): Promise<number> => {
    await collectGarbage()
    const before = process.memoryUsage().heapUsed
    trial.fill(options.tasks)
    await collectGarbage()
    const after = process.memoryUsage().heapUsed
    await trial.release()
    return (after - before) / options.tasks
  }
  for (let round = 0; round < options.rounds; round++) {
    for (const id of CONTENDERS) {
      pending.get(id)!.push(await measure(TRIALS[id](options.tasks)))
      running.get(id)!.push(await measure(runningTrial(id, options.tasks)))
    }
  }
  return {
    pending: byContender((id) => median(pending.get(id)!)),
    running: byContender((id) => median(running.get(id)!)),
  }
}
