/**
 * The scheduler's only source of time. Inject your own (see `ManualClock` in
 * `@fastify-tasks/core/testing`) to test deadlines, aging and drains without real sleeps.
 */
export interface Clock {
  /** Monotonic milliseconds. Only differences are used. */
  now(): number
  /**
   * Schedules `callback` after `ms`. The returned handle is passed back to `clearTimeout`.
   * `keepAlive` asks that the timer hold the process open (used while draining on close); other
   * timers should not.
   */
  setTimeout(callback: () => void, ms: number, keepAlive?: boolean): unknown
  clearTimeout(handle: unknown): void
  /**
   * Wall-clock milliseconds since the epoch, read only by cron schedules (`repeat()` with `cron`),
   * which fire at times of day. `Date.now()` when a clock does not have it.
   */
  wallTime?(): number
}

/**
 * The real clock: `performance.now()` and Node timers. Deadline timers are unref'ed, so the
 * scheduler never holds the process open; the drain's timers (`close()` with a finite timeout, and
 * the abort grace after it) do.
 */
export const systemClock: Clock = {
  // eslint-disable-next-line no-restricted-properties -- the real clock itself
  now: () => performance.now(),
  setTimeout(callback, ms, keepAlive = false) {
    // eslint-disable-next-line no-restricted-globals -- the real clock itself
    const timer = setTimeout(callback, ms)
    if (!keepAlive) timer.unref()
    return timer
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout)
  },
  // eslint-disable-next-line no-restricted-properties -- the real clock itself
  wallTime: () => Date.now(),
}
