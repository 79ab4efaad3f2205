import type { LimitChangeCause } from './adaptive-limit.js'
import type { NameLimit, QueuedTask } from './name-limit.js'

/** One task name's limit and what it holds, at one instant (`Scheduler.limits()`, `limitOf()`). */
export interface NameLimitState {
  readonly name: string
  /** `adaptive` (found from the tasks' run time), `fixed`, or `none` (only `concurrency` bounds it). */
  readonly mode: 'adaptive' | 'fixed' | 'none'
  /** Tasks of the name allowed to hold a slot at once now; `null` for none. */
  readonly limit: number | null
  readonly running: number
  readonly waiting: number
  /**
   * Time its latest starts (up to 128) waited for a slot, ms: median, 99th percentile and how many
   * starts they cover (a task that started at once waited 0). `null` before its first start.
   */
  readonly wait: { readonly p50Ms: number; readonly p99Ms: number; readonly samples: number } | null
  /** Adaptive only: the run time (ms) the limit compares with; `null` before its first window ended. */
  readonly baselineMs: number | null
  /** Adaptive only: the median run time (ms) of its last window; `null` before the first ended. */
  readonly latencyMs: number | null
  /** Adaptive only: how many times the limit moved. */
  readonly changes: number
  /** Adaptive only: the limit's last move and why; `null` if it never moved. */
  readonly lastChange: {
    readonly from: number
    readonly to: number
    readonly cause: LimitChangeCause
    /** The window's median run time ÷ the baseline then. */
    readonly latencyRatio: number
    readonly agoMs: number
  } | null
  /**
   * Its rate limit (`limits.rate`), if it has one: `max` starts per `duration` ms, the starts in the
   * current window, and how long its tasks are still held (0 while it may start more).
   */
  readonly rate: { readonly max: number; readonly duration: number; readonly startsInWindow: number; readonly heldForMs: number } | null
}

/** A fresh snapshot of one name's entry. */
export function nameLimitState<T extends QueuedTask>(entry: NameLimit<T>, now: number): NameLimitState {
  const adaptive = entry.adaptive
  const limit = entry.limit
  const waits = entry.recentWaits()
  const change = adaptive?.lastChange
  const orNull = (value: number | undefined): number | null => (value === undefined || Number.isNaN(value) ? null : value)
  return {
    name: entry.name,
    mode: adaptive !== undefined ? 'adaptive' : limit === Infinity ? 'none' : 'fixed',
    limit: limit === Infinity ? null : limit,
    running: entry.running,
    waiting: entry.waiting,
    wait: waits.length === 0 ? null : { p50Ms: percentile(waits, 0.5), p99Ms: percentile(waits, 0.99), samples: waits.length },
    baselineMs: orNull(adaptive?.baseline),
    latencyMs: orNull(adaptive?.lastMedian),
    changes: adaptive?.changes ?? 0,
    lastChange:
      change === undefined
        ? null
        : { from: change.from, to: change.to, cause: change.cause, latencyRatio: change.latencyRatio, agoMs: now - change.at },
    rate:
      entry.rate === undefined
        ? null
        : {
            max: entry.rate.max,
            duration: entry.rate.duration,
            startsInWindow: entry.startsInWindow(now),
            heldForMs: Math.max(0, entry.blockedUntil - now),
          },
  }
}

/** The nearest-rank percentile of sorted values (not empty). */
function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}
