/** Which measurement said the process is overloaded. */
export type OverloadSignal = 'event_loop_blocked' | 'event_loop_delay' | 'event_loop_utilization'

/** Thresholds of the overload detector. */
export interface OverloadThresholds {
  /** ms: a tick this late, or a window p99 delay above it, trips the detector. */
  readonly maxDelay: number
  /** 0–1: a window's utilization above it trips the detector. */
  readonly maxUtilization: number
  /** ms the overloaded state lasts after a window trips it (so it does not flap). */
  readonly holdFor: number
  /**
   * Least ms it lasts after a single block. It lasts as long as the block did (up to `holdFor`):
   * requests that queued up during the block are shed while the backlog is worked off, and one slow
   * moment does not refuse traffic for long.
   */
  readonly holdAfterBlock: number
}

/**
 * Decides "overloaded or not" from two kinds of evidence, both measured on the main thread:
 *
 * - a tick that fires late: a timer due every few ms that runs `maxDelay` late means the loop was
 *   blocked that long. Timers run before pending I/O when the loop resumes, so this trips before the
 *   requests that queued up during the block are read: they get 503, not a slow answer. (The mean
 *   delay that `@fastify/under-pressure` compares misses a single long block.)
 * - a window's p99 delay or utilization above its threshold: sustained load.
 *
 * Pure: fed measurements, no timers of its own, so it is tested step by step.
 */
export class OverloadDetector {
  readonly thresholds: OverloadThresholds
  #until = -Infinity
  #signal: OverloadSignal | null = null
  #trips = { event_loop_blocked: 0, event_loop_delay: 0, event_loop_utilization: 0 }
  #since = -Infinity

  constructor(thresholds: OverloadThresholds) {
    this.thresholds = thresholds
  }

  /** A tick ran `lateness` ms after it was due, at `now`. */
  tick(now: number, lateness: number): void {
    if (lateness > this.thresholds.maxDelay) {
      this.#trip('event_loop_blocked', now, Math.max(this.thresholds.holdAfterBlock, Math.min(lateness, this.thresholds.holdFor)))
    }
  }

  /** A measurement window closed at `now` with this p99 delay (ms) and utilization (0–1). */
  window(now: number, p99: number, utilization: number): void {
    if (p99 > this.thresholds.maxDelay) this.#trip('event_loop_delay', now, this.thresholds.holdFor)
    else if (utilization > this.thresholds.maxUtilization) this.#trip('event_loop_utilization', now, this.thresholds.holdFor)
  }

  /** Whether the process counts as overloaded at `now`. */
  overloaded(now: number): boolean {
    return now < this.#until
  }

  /** The signal that tripped last, while overloaded; `null` otherwise. */
  signal(now: number): OverloadSignal | null {
    return this.overloaded(now) ? this.#signal : null
  }

  /** When the current overload started (ms on the monitor's clock), or `null`. */
  since(now: number): number | null {
    return this.overloaded(now) ? this.#since : null
  }

  /** How many times each signal tripped. */
  get trips(): Readonly<Record<OverloadSignal, number>> {
    return { ...this.#trips }
  }

  #trip(signal: OverloadSignal, now: number, hold: number): void {
    if (!this.overloaded(now)) this.#since = now
    this.#until = Math.max(this.#until, now + hold)
    this.#signal = signal
    this.#trips[signal]++
  }
}
