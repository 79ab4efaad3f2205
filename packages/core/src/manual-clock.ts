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
  readonly #wallOffset: number
  #nextId = 1
  #timers: PendingTimer[] = []

  /**
   * `now()` starts at `start`; `wallTime()` (read by cron schedules) starts at `wallStart`, by
   * default 2026-01-01T00:00:00.000Z, and moves with it.
   */
  constructor(start = 0, wallStart = Date.UTC(2026, 0, 1)) {
    this.#now = start
    this.#wallOffset = wallStart - start
  }

  now(): number {
    return this.#now
  }

  /** Wall-clock ms since the epoch: `wallStart` plus the time advanced since the start. */
  wallTime(): number {
    return this.#now + this.#wallOffset
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
