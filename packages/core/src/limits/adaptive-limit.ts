/** Tuning of the limits found from the work itself (`limits.adaptive`). */
export interface AdaptiveLimitOptions {
  /**
   * A name's limit before anything is known of its tasks. By default the ceiling (`concurrency`):
   * nothing waits that the pool could run until the name's run time says its dependency saturates.
   * A lower start (slow start: it doubles while its tasks wait and run time holds) suits a
   * dependency that must not be hit hard by a cold service.
   * @default the scheduler's `concurrency`
   */
  initial?: number
  /** The lowest a name's limit goes. @default 1 */
  min?: number
  /**
   * How far the tasks' typical run time (the median of a window of completions) may rise above its
   * baseline before the limit shrinks: `1.5` lets it grow by half. Lower finds a saturating
   * dependency's knee more closely; higher tolerates noisier run times.
   * @default 1.5
   */
  tolerance?: number
}

/** The tuning after defaults and validation. */
export interface ResolvedAdaptiveOptions {
  readonly initial: number
  readonly min: number
  readonly tolerance: number
}

/** Why a name's limit last moved. */
export type LimitChangeCause = 'saturated' | 'latency'

/** The last move of a name's limit. */
export interface LimitChange {
  /** Clock reading (ms) when it moved. */
  readonly at: number
  readonly from: number
  readonly to: number
  /**
   * `saturated`: the name had tasks waiting at its limit while its run time stayed near its
   * baseline, so it grew. `latency`: the run time rose past `tolerance` × baseline (the dependency
   * behind the name is saturating), so it shrank.
   */
  readonly cause: LimitChangeCause
  /** The window's median run time ÷ the baseline when it moved. */
  readonly latencyRatio: number
}

/** Samples kept per window: the median of up to this many, taken at an even stride. */
const KEPT = 32
/** A window holds at least this many completions (and at least half the limit). */
const MIN_WINDOW = 16
/** Run times below this (ms) count as this: sub-millisecond tasks are all "at baseline". */
const FLOOR_MS = 1
/**
 * A rise of the median of at most this (ms) over the baseline is noise, whatever the ratio: timers
 * and a busy event loop move run times of a few milliseconds by a few milliseconds (2 → 3 ms is
 * 1.5×, and would otherwise shrink the limit of every fast task on a loaded machine).
 */
const SLACK_MS = 10
/** The baseline follows a lower median halfway at once, and a higher one over this many ms (time constant). */
const BASELINE_RISE_MS = 30_000
/** The share of the gap to the computed target a shrinking step closes (smoothing against noise). */
const SHRINK_SMOOTHING = 0.5
/** Windows a limit holds just below the level at which its dependency last saturated, before trying that level again. */
const HOLD_WINDOWS = 3
/** What an adaptive limit reads of its scheduler at the end of a window. */
export interface LimitContext {
  /** What the limit may grow to: the concurrency configured (or set since, if higher). */
  ceiling(): number
  /** Why the process is under pressure, or `undefined`. */
  pressure(): string | undefined
}

/**
 * A concurrency limit found from the tasks' own run time, in the spirit of TCP congestion control
 * (Vegas, and the gradient limits of Netflix's concurrency-limits):
 *
 * - Completions of tasks started since the window began (so they ran under its limit) are gathered
 *   in windows of `max(16, limit / 2)`. At the end of a window, its median run time `m` is compared
 *   with a baseline `b`, the run time at light load: a lower median halves the gap at once; a higher
 *   one within tolerance pulls the baseline up with a 30 s time constant (a dependency that became
 *   slower for good is relearned; so it is once the limit is at `min`).
 * - `m` within tolerance (`m ≤ tolerance × b`, or at most 10 ms above `b`: below that, timers and a
 *   busy event loop make the noise) and the name had tasks waiting at its limit (saturated): grow. Until the
 *   first shrink, double (slow start, for a low `initial`); after it, add `√limit / 2`, but no further
 *   than one below the knee (what was in use at the last shrink); there, hold three windows, then try
 *   the knee itself. A window at the knee that keeps its run time forgets it (the dependency
 *   recovered), and growth is fast again.
 * - `m > tolerance × b` and more than 10 ms above it, in two windows in a row (one alone may be a GC
 *   pause or a burst of event-loop lag; past twice the tolerance one is enough): the dependency
 *   queues the work. Shrink what was in use towards
 *   `inUse × tolerance × b / m` (at most halving): at once when `m` is past twice the tolerance,
 *   else closing half the gap per window so that noise does not swing it.
 * - Under pressure (`pressure()` gives a reason): never grow. Run times then include the event
 *   loop's lag, so they move neither the baseline nor the limit. Lowering what runs is the global
 *   ceiling's job (the plugin's backpressure lowers `concurrency` while the loop is overloaded):
 *   once it recovers, the name's limit applies again as it was.
 *
 * The median is robust to a slow tail: a few percent of calls taking seconds hold slots (and make
 * the limit grow while they do) but do not read as saturation. The limit never exceeds the ceiling.
 */
export class AdaptiveLimit {
  #limit: number
  readonly #min: number
  readonly #tolerance: number
  #baseline = NaN
  #baselineAt = NaN
  #lastMedian = NaN
  #slowStart = true
  /**
   * What was in use at the last shrink on latency: the level at which the dependency saturated.
   * Growth closes in on it one task at a time, and forgets it once a window at that level kept its
   * run time (the dependency recovered, or the shrink was noise).
   */
  #knee = Infinity
  /** Windows spent just below the knee, saturated and on time, since it was last probed. */
  #held = 0
  /** Consecutive windows past tolerance: a single one (a GC pause, a burst of loop lag) shrinks nothing. */
  #over = 0
  // The window.
  readonly #kept = new Float64Array(KEPT)
  #count = 0
  #seen = 0
  #size: number
  /** When the window began: tasks started earlier are not sampled (they ran under the previous limit). */
  #windowStart = -Infinity
  #stride: number
  /** Tasks of the name waited at its limit during this window. */
  saturated = false
  /** Most tasks of the name in flight at once during this window. */
  peak = 0
  #lastChange: LimitChange | undefined = undefined
  #changes = 0

  constructor(options: ResolvedAdaptiveOptions, ceiling: number) {
    this.#min = options.min
    this.#tolerance = options.tolerance
    this.#limit = Math.max(options.min, Math.min(options.initial, ceiling))
    this.#size = windowSize(this.#limit)
    this.#stride = Math.ceil(this.#size / KEPT)
  }

  /** The limit now (a whole number ≥ `min`). */
  get limit(): number {
    return Math.floor(this.#limit)
  }

  /** The run time (ms) the limit compares with, once a window has ended; `NaN` before. */
  get baseline(): number {
    return this.#baseline
  }

  /** The median run time (ms) of the last window; `NaN` before the first ended. */
  get lastMedian(): number {
    return this.#lastMedian
  }

  get lastChange(): LimitChange | undefined {
    return this.#lastChange
  }

  /** How many times the limit moved. */
  get changes(): number {
    return this.#changes
  }

  /**
   * One task of the name, started at `startedAt`, stopped holding its slot at `now` (settled, or
   * given up on at its deadline); `running` of the name still hold one. `context` is read at the
   * end of a window only. Returns `true` when the limit moved.
   */
  sample(startedAt: number, now: number, running: number, context: LimitContext): boolean {
    // Only tasks started since the window began ran under its limit.
    if (startedAt < this.#windowStart) return false
    const ms = now - startedAt
    const seen = this.#seen++
    if (this.#count < KEPT && seen % this.#stride === 0) this.#kept[this.#count++] = ms
    if (this.#seen < this.#size) return false
    return this.#endWindow(now, running, context)
  }

  #endWindow(now: number, running: number, context: LimitContext): boolean {
    const m = Math.max(FLOOR_MS, median(this.#kept, this.#count))
    this.#lastMedian = m
    const pressure = context.pressure()
    const b = this.#baseline
    const dt = Number.isNaN(this.#baselineAt) ? 0 : now - this.#baselineAt
    this.#baselineAt = now
    if (Number.isNaN(b)) this.#baseline = m
    else if (pressure !== undefined) {
      // Under pressure run times include the event loop's lag: they say nothing of the dependency.
    } else if (m <= b) this.#baseline = b - (b - m) / 2
    else if (m <= this.#tolerance * b || m - b <= SLACK_MS || this.#limit <= this.#min) {
      // Slower but not saturating (or nothing left to shed): a dependency that became slower for good is relearned.
      this.#baseline = b + (m - b) * Math.min(1, dt / BASELINE_RISE_MS)
    }
    const ratio = m / this.#baseline
    const from = this.#limit
    const inUse = Math.max(this.#min, Math.min(from, this.peak))
    let to = from
    let cause: LimitChangeCause | undefined
    // Past tolerance: the dependency may be queueing the work. Under pressure the run times say nothing of it.
    const past = pressure === undefined && ratio > this.#tolerance && m - this.#baseline > SLACK_MS
    this.#over = past ? this.#over + 1 : 0
    if (pressure !== undefined) {
      // Hold: neither grow nor learn (see the class comment).
    } else if (past && (this.#over >= 2 || ratio > 2 * this.#tolerance)) {
      const target = inUse * Math.max(0.5, this.#tolerance / ratio)
      // Far past tolerance the dependency is drowning: go to the target at once; near it, close part of the gap.
      to = Math.min(from, ratio > 2 * this.#tolerance ? target : inUse - (inUse - target) * SHRINK_SMOOTHING)
      this.#slowStart = false
      cause = 'latency'
      this.#knee = inUse
    } else if (!past && this.saturated) {
      const level = Math.floor(from)
      // It ran at the knee and kept its run time: the dependency recovered, or the shrink was noise.
      if (level >= this.#knee) this.#knee = Infinity
      if (level + 1 < this.#knee) {
        this.#held = 0
        to = Math.min(from + (this.#slowStart ? from : Math.max(1, Math.sqrt(from) / 2)), this.#knee - 1)
      } else if (++this.#held >= HOLD_WINDOWS) {
        // Just below the knee for a while: probe it again.
        this.#held = 0
        to = this.#knee
      }
      cause = 'saturated'
    }
    to = Math.max(this.#min, Math.min(to, context.ceiling()))
    this.#resetWindow(to, running, now)
    if (cause === undefined || Math.floor(to) === Math.floor(from)) {
      this.#limit = to
      return false
    }
    this.#limit = to
    this.#changes++
    this.#lastChange = { at: now, from: Math.floor(from), to: Math.floor(to), cause, latencyRatio: ratio }
    return true
  }

  #resetWindow(limit: number, running: number, now: number): void {
    this.#windowStart = now
    this.#count = 0
    this.#seen = 0
    this.#size = windowSize(limit)
    this.#stride = Math.ceil(this.#size / KEPT)
    this.saturated = false
    this.peak = running
  }
}

function windowSize(limit: number): number {
  return Math.max(MIN_WINDOW, Math.ceil(limit / 2))
}

/** The median of the first `count` values (sorted in place; `count` is at most 32). */
function median(values: Float64Array, count: number): number {
  if (count === 0) return NaN
  const part = values.subarray(0, count).sort()
  const mid = count >> 1
  return count % 2 === 1 ? part[mid]! : (part[mid - 1]! + part[mid]!) / 2
}
