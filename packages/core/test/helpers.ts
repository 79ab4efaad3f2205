import { Scheduler, type SchedulerOptions } from '../src/index.js'
import { ManualClock } from '../src/testing.js'

/** Lets pending promise callbacks run (no timers involved). */
export async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}

/** A promise with its resolve/reject exposed. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** A scheduler on a manual clock. */
export function manualScheduler(options: SchedulerOptions = {}): { scheduler: Scheduler; clock: ManualClock } {
  const clock = new ManualClock()
  return { scheduler: new Scheduler({ clock, ...options }), clock }
}

/** A task function that never settles and ignores its signal. */
export const hang = (): Promise<never> => new Promise<never>(() => {})

/** A task function that settles only when its signal aborts (rejecting with the abort reason). */
export const untilAborted = ({ signal }: { signal: AbortSignal }): Promise<never> =>
  new Promise<never>((_, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true })
  })

/** A small deterministic PRNG (mulberry32) so a failing seed can be replayed. */
export function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
