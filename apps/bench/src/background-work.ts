/**
 * The background load of the backpressure benchmark, run inside its server: a producer that offers
 * `low`-priority tasks at a fixed rate through `app.tasks.spawn`, each burning a slice of CPU.
 */
import { performance } from 'node:perf_hooks'
import { AdmissionError, type AppTasks } from 'fastify-tasks'

/** Tasks offered per second, whatever the server's state (like jobs arriving from a queue). */
export const OFFERED_PER_SECOND = 200
/** Interval of the producer's timer; it spawns the arrivals that fell due since its last run. */
export const PRODUCER_TICK_MS = 5
/** Each task's synchronous CPU slice lasts from … to … ms (uniform, from a seeded generator). */
export const SLICE_MIN_MS = 5
export const SLICE_MAX_MS = 20
export const TASK_NAME = 'background-slice'

export const BACKGROUND_SETUP = [
  `${OFFERED_PER_SECOND} tasks offered per second (a ${PRODUCER_TICK_MS} ms timer spawns those due since its last run): app.tasks.spawn('${TASK_NAME}', …, { priority: 'low' })`,
  `each task awaits one setImmediate, then busy-loops on performance.now() for ${SLICE_MIN_MS}–${SLICE_MAX_MS} ms (uniform, same seeded sequence in every server)`,
  `offered CPU: ${((OFFERED_PER_SECOND * (SLICE_MIN_MS + SLICE_MAX_MS)) / 2 / 1000).toFixed(1)} s per second, more than one event loop can give: the work is never all done`,
]

let seed = 0x9e3779b9

/** The next slice length: a linear congruential generator, so every server burns the same sequence. */
function nextSliceMs(): number {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0
  return SLICE_MIN_MS + (seed / 2 ** 32) * (SLICE_MAX_MS - SLICE_MIN_MS)
}

/**
 * One task, made once (no closure per spawn). It yields one macrotask turn first: the scheduler
 * starts the next queued task when one settles, in a microtask, so synchronous tasks would run back
 * to back in a single turn until the queue is empty, and neither the event loop nor the admission
 * control would get a say in between.
 */
async function sliceTask(): Promise<number> {
  await new Promise<void>((resolve) => setImmediate(resolve))
  const slice = nextSliceMs()
  const end = performance.now() + slice
  while (performance.now() < end) {
    // Burn CPU.
  }
  return slice
}

/** What the producer saw since it started: cumulative counts. */
export interface ProducerCounts {
  /** Spawn attempts. */
  offered: number
  /** Spawns that threw an `AdmissionError`, by reason. */
  overloaded: number
  queueFull: number
  closing: number
}

export interface Producer {
  readonly counts: Readonly<ProducerCounts>
  stop(): void
}

/** Starts offering tasks to `tasks` at {@link OFFERED_PER_SECOND}. */
export function startProducer(tasks: AppTasks): Producer {
  const counts: ProducerCounts = { offered: 0, overloaded: 0, queueFull: 0, closing: 0 }
  const started = performance.now()
  const options = { priority: 'low' } as const
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) * OFFERED_PER_SECOND) / 1000)
    while (counts.offered < due) {
      counts.offered++
      try {
        tasks.spawn(TASK_NAME, sliceTask, options)
      } catch (error) {
        if (!(error instanceof AdmissionError)) throw error
        if (error.reason === 'overloaded') counts.overloaded++
        else if (error.reason === 'queue_full') counts.queueFull++
        else counts.closing++
      }
    }
  }, PRODUCER_TICK_MS)
  return { counts, stop: () => clearInterval(timer) }
}
