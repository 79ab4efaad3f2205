import type { ResolvedLimitsOptions } from './limits-options.js'
import { NameLimit, type QueuedTask } from './name-limit.js'

/**
 * Names whose entry is kept once idle. Beyond it, an entry is forgotten as soon as its name is idle
 * (names are unbounded input; a forgotten adaptive limit starts over at `initial`).
 */
const MAX_IDLE_NAMES = 1_000

/** The per-name entries, made on a name's first task. */
export class NameLimits<T extends QueuedTask> {
  readonly #entries = new Map<string, NameLimit<T>>()
  readonly #options: ResolvedLimitsOptions

  constructor(options: ResolvedLimitsOptions) {
    this.#options = options
  }

  get options(): ResolvedLimitsOptions {
    return this.#options
  }

  /** The entry of `name`, made if it has none (its limit starts within `ceiling`). */
  entry(name: string, ceiling: number): NameLimit<T> {
    let entry = this.#entries.get(name)
    if (entry === undefined) {
      const o = this.#options
      const fixed = o.fixed.get(name) ?? (o.perName === false ? Infinity : o.perName)
      entry = new NameLimit<T>(name, fixed, o.adaptive, ceiling, o.rate.get(name))
      this.#entries.set(name, entry)
    }
    return entry
  }

  /** The entry of `name`, if it has one. */
  get(name: string): NameLimit<T> | undefined {
    return this.#entries.get(name)
  }

  /** `entry` became idle: forget it when there are too many names. Returns whether it was forgotten. */
  idle(entry: NameLimit<T>): boolean {
    // A rate-limited name is kept: forgetting it would forget its window.
    return (
      this.#entries.size > MAX_IDLE_NAMES &&
      entry.rate === undefined &&
      this.#entries.get(entry.name) === entry &&
      this.#entries.delete(entry.name)
    )
  }

  get size(): number {
    return this.#entries.size
  }

  [Symbol.iterator](): IterableIterator<NameLimit<T>> {
    return this.#entries.values()
  }
}
