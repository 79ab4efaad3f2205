/**
 * A simulated external service with a heavy latency tail, for the heavy-tail scenario of the limits
 * benchmark: most calls answer in tens of milliseconds, a few take seconds, and during a failure
 * window every call made is rejected, after its usual latency. Calls honour an `AbortSignal`.
 */
import { performance } from 'node:perf_hooks'
import { uniform } from './seeded-random.js'

/** Share of calls in the slow tail. */
export const SLOW_SHARE = 0.03
/** Latency of an ordinary call, ms (uniform). */
export const FAST_MIN_MS = 5
export const FAST_MAX_MS = 50
/** Latency of a call in the slow tail, ms (uniform). */
export const SLOW_MIN_MS = 5_000
export const SLOW_MAX_MS = 15_000

/** What the service says when it is down. */
export class ServiceDownError extends Error {
  constructor() {
    super('service unavailable')
    this.name = 'ServiceDownError'
  }
}

export interface HeavyTailServiceOptions {
  /** The latency draws: the same seed gives the same sequence of latencies, call after call. */
  readonly random: () => number
  /** `performance.now()` from which the failure window is counted. */
  readonly origin: number
  /** The failure window, ms after `origin`: a call made in [from, until) is rejected. */
  readonly failFromMs: number
  readonly failUntilMs: number
}

export class HeavyTailService {
  readonly #random: () => number
  readonly #failFrom: number
  readonly #failUntil: number

  constructor(options: HeavyTailServiceOptions) {
    this.#random = options.random
    this.#failFrom = options.origin + options.failFromMs
    this.#failUntil = options.origin + options.failUntilMs
  }

  /** One call: resolves after its latency, or rejects then if the service was down when it was made; rejects at once on abort. */
  call(signal?: AbortSignal): Promise<void> {
    const now = performance.now()
    const down = now >= this.#failFrom && now < this.#failUntil
    const slow = this.#random() < SLOW_SHARE
    const latency = slow ? uniform(this.#random, SLOW_MIN_MS, SLOW_MAX_MS) : uniform(this.#random, FAST_MIN_MS, FAST_MAX_MS)
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(signal.reason as Error)
        return
      }
      const onAbort = (): void => {
        clearTimeout(timer)
        reject(signal!.reason as Error)
      }
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort)
        if (down) reject(new ServiceDownError())
        else resolve()
      }, latency)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }
}
