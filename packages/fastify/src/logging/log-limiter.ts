import { systemClock, type Clock } from '@fastify-tasks/core'

/** Most distinct keys (task name × kind of line) rate-limited at once; beyond, lines are written as they come. */
const MAX_KEYS = 1_000

interface Window {
  /** When this window opened. */
  start: number
  /** Lines held back since it opened (or since the last summary). */
  suppressed: number
  /** Writes the summary line for the held-back lines: the latest one's context. */
  summarize: ((suppressed: number) => void) | undefined
}

/**
 * Rate-limits log lines per key (a task name and a kind of line): the first line of each interval is
 * written as it comes; the others are counted, and at the end of the interval one summary line says
 * how many were held back. So an overload that fails 15 000 tasks in 10 s writes a handful of lines,
 * not 15 000, and the count is never lost.
 */
export class LogLimiter {
  readonly #interval: number
  readonly #clock: Clock
  readonly #windows = new Map<string, Window>()
  #timer: unknown = undefined

  /** `interval` in ms; 0 writes every line. Intervals run on `clock` (the plugin passes the scheduler's). */
  constructor(interval: number, clock: Clock = systemClock) {
    this.#interval = interval
    this.#clock = clock
  }

  /**
   * Writes the line now (`write` runs) or holds it back (`summarize` is kept, to be called with the
   * count at the end of the interval).
   */
  log(key: string, write: () => void, summarize: (suppressed: number) => void): void {
    if (this.#interval === 0) return write()
    const now = this.#clock.now()
    const window = this.#windows.get(key)
    if (window === undefined || now - window.start >= this.#interval) {
      if (window !== undefined) this.#summarize(window)
      else if (this.#windows.size >= MAX_KEYS) return write()
      this.#windows.set(key, { start: now, suppressed: 0, summarize: undefined })
      this.#arm()
      return write()
    }
    window.suppressed++
    window.summarize = summarize
  }

  /** Writes the summaries still owed (on close) and stops the timer. */
  close(): void {
    for (const window of this.#windows.values()) this.#summarize(window)
    this.#windows.clear()
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #summarize(window: Window): void {
    const { suppressed, summarize } = window
    window.suppressed = 0
    window.summarize = undefined
    if (suppressed > 0 && summarize !== undefined) summarize(suppressed)
  }

  /** A check every `interval` while windows are open (not holding the process open on the real clock). */
  #arm(): void {
    if (this.#timer !== undefined) return
    this.#timer = this.#clock.setTimeout(() => this.#tick(), this.#interval)
  }

  /** Ends the windows whose interval is over: their summaries are written, and they are forgotten. */
  #tick(): void {
    this.#timer = undefined
    const now = this.#clock.now()
    for (const [key, window] of this.#windows) {
      if (now - window.start < this.#interval) continue
      this.#summarize(window)
      this.#windows.delete(key)
    }
    if (this.#windows.size > 0) this.#arm()
  }
}
