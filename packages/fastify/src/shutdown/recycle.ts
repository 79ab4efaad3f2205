import type { Clock } from '@fastify-tasks/core'
import { checkDuration, checkInteger, checkKnownKeys, checkObject } from '@fastify-tasks/core/validation'
import { InvalidOptionError } from '@fastify-tasks/core'

/**
 * Recycling, the last line of defence against a leak (`listenGracefully`'s `recycle`): when the
 * process's memory or its leaked tasks stay above a threshold for `window`, it drains and exits with
 * {@link EXIT_CODES}`.recycled` for the orchestrator to start a fresh one. Give at least one threshold.
 */
export interface RecycleOptions {
  /** Recycle when the resident set size stays above this many bytes for `window`. */
  maxRssBytes?: number
  /** Recycle when the V8 heap in use stays above this many bytes for `window`. */
  maxHeapUsedBytes?: number
  /** Recycle when more than this many tasks stay flagged leaked (`summary().leaked.live`) for `window`. */
  maxLeaked?: number
  /** How long a threshold must stay exceeded, at every check, in ms. @default 60_000 */
  window?: number
  /** How often the figures are read, in ms. @default 5_000 */
  checkEvery?: number
}

/** The figures recycling watches. */
export interface RecycleFigures {
  readonly rssBytes: number
  readonly heapUsedBytes: number
  readonly leaked: number
}

/** Why the process recycles: which figure stayed above its threshold, and for how long. */
export interface RecycleTrigger {
  readonly figure: keyof RecycleFigures
  readonly value: number
  readonly threshold: number
  readonly aboveForMs: number
}

export interface ResolvedRecycleOptions {
  readonly thresholds: Readonly<Partial<Record<keyof RecycleFigures, number>>>
  readonly window: number
  readonly checkEvery: number
}

const KEYS = ['maxRssBytes', 'maxHeapUsedBytes', 'maxLeaked', 'window', 'checkEvery'] as const

export function resolveRecycleOptions(options: unknown): ResolvedRecycleOptions {
  const name = 'listenGracefully(options.recycle)'
  const field = (key: string): string => `listenGracefully(options.recycle.${key})`
  const o = checkObject(name, options)
  checkKnownKeys(name, o, KEYS)
  const thresholds: Partial<Record<keyof RecycleFigures, number>> = {}
  if (o['maxRssBytes'] !== undefined) thresholds.rssBytes = checkInteger(field('maxRssBytes'), o['maxRssBytes'], { min: 1 })
  if (o['maxHeapUsedBytes'] !== undefined) {
    thresholds.heapUsedBytes = checkInteger(field('maxHeapUsedBytes'), o['maxHeapUsedBytes'], { min: 1 })
  }
  if (o['maxLeaked'] !== undefined) thresholds.leaked = checkInteger(field('maxLeaked'), o['maxLeaked'], { min: 0 })
  if (Object.keys(thresholds).length === 0) {
    throw new InvalidOptionError(name, 'at least one of maxRssBytes, maxHeapUsedBytes and maxLeaked', options)
  }
  return {
    thresholds,
    window: checkDuration(field('window'), o['window'] ?? 60_000),
    checkEvery: checkDuration(field('checkEvery'), o['checkEvery'] ?? 5_000, { above: 0 }),
  }
}

/**
 * Reads the figures every `checkEvery` on `clock` (its timer does not hold the process open) and
 * calls `recycle` once, with the first figure that stayed above its threshold at every check for
 * `window`. A check below the threshold starts its window again.
 */
export class RecycleWatch {
  readonly #clock: Clock
  readonly #read: () => RecycleFigures
  readonly #options: ResolvedRecycleOptions
  readonly #recycle: (trigger: RecycleTrigger) => void
  readonly #aboveSince = new Map<keyof RecycleFigures, number>()
  #timer: unknown = undefined
  #done = false

  constructor(clock: Clock, read: () => RecycleFigures, options: ResolvedRecycleOptions, recycle: (trigger: RecycleTrigger) => void) {
    this.#clock = clock
    this.#read = read
    this.#options = options
    this.#recycle = recycle
    this.#arm()
  }

  stop(): void {
    this.#done = true
    this.#clock.clearTimeout(this.#timer)
  }

  #arm(): void {
    this.#timer = this.#clock.setTimeout(() => this.#check(), this.#options.checkEvery)
  }

  #check(): void {
    if (this.#done) return
    const now = this.#clock.now()
    const figures = this.#read()
    for (const [figure, threshold] of Object.entries(this.#options.thresholds) as [keyof RecycleFigures, number][]) {
      const value = figures[figure]
      if (!(value > threshold)) {
        this.#aboveSince.delete(figure)
        continue
      }
      const since = this.#aboveSince.get(figure) ?? now
      this.#aboveSince.set(figure, since)
      if (now - since >= this.#options.window) {
        this.stop()
        this.#recycle({ figure, value, threshold, aboveForMs: now - since })
        return
      }
    }
    this.#arm()
  }
}
