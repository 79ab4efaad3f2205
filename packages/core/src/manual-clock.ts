import type { Clock } from './clock.js'

interface PendingTimer {
  readonly id: number
  readonly at: number
  readonly callback: () => void
}

/**
 * A clock that only moves when told to. Timers fire in deadline order, synchronously, during
 * {@link ManualClock.advance}. Use it in tests instead of real sleeps.
 *
 * ```ts
 * const clock = new ManualClock()
 * const scheduler = new Scheduler({ clock })
 * clock.advance(30_000) // every deadline due by then has fired
 * ```
 */
export class ManualClock implements Clock {
  #now: number
  #nextId = 1
  #timers: PendingTimer[] = []

  constructor(start = 0) {
    this.#now = start
  }

  now(): number {
    return this.#now
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const timer = { id: this.#nextId++, at: this.#now + Math.max(0, ms), callback }
    this.#timers.push(timer)
    return timer.id
  }

  clearTimeout(handle: unknown): void {
    this.#timers = this.#timers.filter((timer) => timer.id !== handle)
  }

  /** Number of timers not yet fired or cleared. */
  get pendingTimers(): number {
    return this.#timers.length
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, in order. */
  advance(ms: number): void {
    if (typeof ms !== 'number' || !(ms >= 0) || !Number.isFinite(ms)) {
      throw new RangeError(`ManualClock.advance(ms): expected a finite number >= 0, received ${String(ms)}`)
    }
    const target = this.#now + ms
    for (;;) {
      let next: PendingTimer | undefined
      for (const timer of this.#timers) {
        if (timer.at <= target && (next === undefined || timer.at < next.at || (timer.at === next.at && timer.id < next.id))) {
          next = timer
        }
      }
      if (next === undefined) break
      const fired = next
      this.#timers = this.#timers.filter((timer) => timer !== fired)
      this.#now = Math.max(this.#now, fired.at)
      fired.callback()
    }
    this.#now = target
  }
}
