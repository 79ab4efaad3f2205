/**
 * The scheduler's only source of time. Inject your own (see `ManualClock` in
 * `@fastify-tasks/core/testing`) to test deadlines, aging and drains without real sleeps.
 */
export interface Clock {
  /** Monotonic milliseconds. Only differences are used. */
  now(): number
  /** Schedules `callback` after `ms`. The returned handle is passed back to `clearTimeout`. */
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** The real clock: `performance.now()` and unref'ed Node timers, so the scheduler never holds the process open. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout(callback, ms) {
    const timer = setTimeout(callback, ms)
    timer.unref()
    return timer
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout)
  },
}
