import type { Clock } from './clock.js'

/** The longest delay Node's timers take (2^31 - 1 ms); a longer one fires at once, so the timer is armed for this and re-armed. */
const MAX_TIMER_DELAY = 2_147_483_647

/**
 * One timer for every deadline. It is armed for the earliest deadline it was told about; when it
 * fires, `sweep` handles whatever is due and returns the next earliest deadline to re-arm for.
 *
 * Tasks with the same timeout start in order, so a new task's deadline is almost never earlier than
 * the armed one: spawning does not touch the timer. A task that settles early leaves the timer alone;
 * the stale wake-up just sweeps and re-arms (about once per timeout period).
 */
export class DeadlineTimer {
  readonly #clock: Clock
  readonly #sweep: (now: number) => number
  readonly #keepAlive: boolean
  #timer: unknown = undefined
  #armedAt = Infinity

  /** `keepAlive`: the timer holds the process open (for work that is due, not for watchdogs). */
  constructor(clock: Clock, sweep: (now: number) => number, keepAlive = false) {
    this.#clock = clock
    this.#sweep = sweep
    this.#keepAlive = keepAlive
  }

  /** Makes sure the timer fires no later than `at`. */
  ensure(at: number, now: number): void {
    if (at < this.#armedAt) this.#arm(at, now)
  }

  /** Clears the timer; `ensure` arms it again. */
  stop(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#armedAt = Infinity
  }

  #arm(at: number, now: number): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#armedAt = at
    this.#timer = this.#clock.setTimeout(() => this.#fire(), Math.min(MAX_TIMER_DELAY, Math.max(0, at - now)), this.#keepAlive)
  }

  #fire(): void {
    this.#timer = undefined
    this.#armedAt = Infinity
    const now = this.#clock.now()
    const next = this.#sweep(now)
    if (next < this.#armedAt) this.#arm(next, now)
  }
}
