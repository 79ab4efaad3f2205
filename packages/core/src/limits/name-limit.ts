import { TaskList, type ListNode } from '../task-list.js'
import { AdaptiveLimit, type LimitChange, type ResolvedAdaptiveOptions } from './adaptive-limit.js'
import type { RateLimit } from './limits-options.js'

/** A queued task as the per-name queues see it. */
export interface QueuedTask extends ListNode {
  readonly seq: number
  readonly rank: number
}

/** Queue waits kept per name for their percentiles (a ring: the latest ones). A power of two. */
const WAITS_KEPT = 128

/** One name's waiting tasks at one priority level, in spawn order. */
export class NameQueue<T extends QueuedTask> {
  readonly entry: NameLimit<T>
  readonly list = new TaskList<T>()
  /** Its place in the level's array of non-empty queues, or -1 while empty. */
  index = -1

  constructor(entry: NameLimit<T>) {
    this.entry = entry
  }
}

/**
 * What the scheduler keeps per task name: how many of its tasks hold a slot and wait for one, its
 * limit (fixed, adaptive or none), its waiting tasks by priority level, and its recent queue waits.
 */
export class NameLimit<T extends QueuedTask> {
  readonly name: string
  /** Set when the name's limit adapts; `undefined` for a fixed limit or none. */
  readonly adaptive: AdaptiveLimit | undefined
  /**
   * Tasks of this name allowed to hold a slot at once now (`Infinity` for none): a plain field read
   * on every spawn and start; the scheduler copies an adaptive limit's new value here when it moves.
   */
  limit: number
  /** Its tasks holding a slot. */
  running = 0
  /** Its tasks waiting for one. */
  waiting = 0
  /** Its rate limit, if it has one. */
  readonly rate: RateLimit | undefined
  /** While its rate limit is reached: when its window ends (clock ms). None of its tasks may start before. */
  blockedUntil = -Infinity
  /** When its current rate window began, and its starts in it. */
  #windowStart = -Infinity
  #windowStarts = 0
  /** Per priority level, made on first use. */
  readonly queues: (NameQueue<T> | undefined)[] = [undefined, undefined, undefined, undefined]
  readonly #waits = new Float64Array(WAITS_KEPT)
  #waitsCount = 0
  #waitsNext = 0

  constructor(name: string, fixed: number | 'adaptive', adaptive: ResolvedAdaptiveOptions, ceiling: number, rate?: RateLimit) {
    this.name = name
    this.rate = rate
    this.adaptive = fixed === 'adaptive' ? new AdaptiveLimit(adaptive, ceiling) : undefined
    this.limit = this.adaptive === undefined ? (fixed as number) : this.adaptive.limit
  }

  queue(rank: number): NameQueue<T> {
    return (this.queues[rank] ??= new NameQueue<T>(this))
  }

  /**
   * One of its tasks started at `now`, under a rate limit. Returns when its window ends if that start
   * reached the limit (its tasks are then held until then, unless `hold` is false: a durable backend
   * holds the limit across processes), else `undefined`.
   */
  countStart(rate: RateLimit, now: number, hold = true): number | undefined {
    if (now >= this.#windowStart + rate.duration) {
      this.#windowStart = now
      this.#windowStarts = 0
    }
    if (++this.#windowStarts < rate.max || !hold) return undefined
    return (this.blockedUntil = this.#windowStart + rate.duration)
  }

  /** Starts in the current rate window (0 once it ended). */
  startsInWindow(now: number): number {
    return this.rate === undefined || now >= this.#windowStart + this.rate.duration ? 0 : this.#windowStarts
  }

  /** One of its tasks started after waiting `ms` (0 for one that started at once). */
  recordWait(ms: number): void {
    this.#waits[this.#waitsNext] = ms
    this.#waitsNext = (this.#waitsNext + 1) & (WAITS_KEPT - 1)
    if (this.#waitsCount < WAITS_KEPT) this.#waitsCount++
  }

  /** The recent queue waits, sorted (a copy). */
  recentWaits(): Float64Array {
    return this.#waits.slice(0, this.#waitsCount).sort()
  }

  /** Holds nothing: no task of the name holds a slot or waits. */
  get idle(): boolean {
    return this.running === 0 && this.waiting === 0
  }

  /** The last move of an adaptive limit. */
  get lastChange(): LimitChange | undefined {
    return this.adaptive?.lastChange
  }
}
