import { InvalidOptionError } from '@fastify-tasks/core'
import { checkDuration, checkInteger, checkNumber } from '@fastify-tasks/core/validation'

/** Options of adaptive concurrency (additive increase, multiplicative decrease). */
export interface AdaptiveConcurrencyOptions {
  /**
   * Event-loop delay p99 (ms) the controller steers for: above it, concurrency shrinks.
   * @default 50
   */
  targetDelay?: number
  /** Lowest concurrency. @default 1 */
  min?: number
  /** Multiplier applied on each window above target (0.1–0.95). @default 0.7 */
  decrease?: number
  /** Added on each window at or below target while tasks are waiting. @default 1/20 of the maximum, at least 1 */
  increase?: number
}

/** AIMD on event-loop delay: the number of tasks allowed to run at once, within [min, max]. */
export class ConcurrencyController {
  readonly max: number
  readonly min: number
  readonly targetDelay: number
  readonly decrease: number
  readonly increase: number
  #current: number
  #decreases = 0
  #increases = 0

  constructor(max: number, options: AdaptiveConcurrencyOptions = {}) {
    const { targetDelay = 50, min = 1, decrease = 0.7, increase = Math.max(1, Math.ceil(max / 20)) } = options
    checkDuration('backpressure.adaptive.targetDelay', targetDelay, { above: 0, infinity: true })
    // Bounded by another option: the message names it.
    if (typeof min !== 'number' || !Number.isInteger(min) || min < 1 || min > max) {
      throw new InvalidOptionError('backpressure.adaptive.min', `an integer from 1 to concurrency (${max})`, min)
    }
    checkNumber('backpressure.adaptive.decrease', decrease, { min: 0.1, max: 0.95 })
    checkInteger('backpressure.adaptive.increase', increase, { min: 1 })
    this.max = max
    this.min = min
    this.targetDelay = targetDelay
    this.decrease = decrease
    this.increase = increase
    this.#current = max
  }

  /** Windows that shrank / grew the limit so far. */
  get adjustments(): { readonly decreases: number; readonly increases: number } {
    return { decreases: this.#decreases, increases: this.#increases }
  }

  /**
   * One step, at the end of a measurement window: shrink when the window's p99 delay was above
   * target (or the process was blocked), grow back by `increase` when it was not and tasks wait.
   * Returns the new limit.
   */
  step(p99: number, overloaded: boolean, waiting: number): number {
    if (overloaded || p99 > this.targetDelay) {
      const next = Math.max(this.min, Math.floor(this.#current * this.decrease))
      if (next < this.#current) this.#decreases++
      this.#current = next
    } else if (waiting > 0 && this.#current < this.max) {
      this.#current = Math.min(this.max, this.#current + this.increase)
      this.#increases++
    }
    return this.#current
  }
}
