import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks'
import { InvalidOptionError } from '@fastify-tasks/core'

/** Event-loop health over the last complete window. */
export interface EventLoopSnapshot {
  /** Event-loop delay percentiles over the window, in ms (sampled at `resolution`). */
  readonly delayMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number; readonly mean: number }
  /** Share of the window the event loop spent busy, 0–1 (not a lifetime average). */
  readonly utilization: number
  /** Length of the window, in ms; 0 before the first window completes. */
  readonly windowMs: number
  /** `true` when the window's p99 delay exceeded `maxDelay` or its utilization exceeded `maxUtilization`. */
  readonly overloaded: boolean
}

/** Options of the event-loop monitor. */
export interface EventLoopOptions {
  /**
   * Sampling resolution of the delay histogram, in ms.
   * @default 10
   */
  resolution?: number
  /**
   * Length of a measurement window, in ms: percentiles and utilization describe the last complete one.
   * @default 1_000
   */
  window?: number
  /**
   * The process counts as overloaded when a window's p99 event-loop delay exceeds this, in ms.
   * (The p99 of a window, not the mean: a mean over the window hides a single long block.)
   * @default 200
   */
  maxDelay?: number
  /**
   * …or when a window's event-loop utilization exceeds this ratio (0–1).
   * @default 0.98
   */
  maxUtilization?: number
}

const EMPTY: EventLoopSnapshot = Object.freeze({
  delayMs: Object.freeze({ p50: 0, p90: 0, p99: 0, max: 0, mean: 0 }),
  utilization: 0,
  windowMs: 0,
  overloaded: false,
})

const toMs = (ns: number): number => Math.round(ns / 1e4) / 100

/**
 * Measures event-loop delay and utilization per window, with one unref'ed timer. The window closes
 * on the timer's tick, which a blocked loop delays: the block's samples land in the window that
 * closes right after it, never erased by a reset during the block.
 */
export class EventLoopMonitor {
  readonly resolution: number
  readonly window: number
  readonly maxDelay: number
  readonly maxUtilization: number
  #histogram: IntervalHistogram | undefined
  #timer: NodeJS.Timeout | undefined
  #lastElu: EventLoopUtilization | undefined
  #lastAt = 0
  #snapshot: EventLoopSnapshot = EMPTY

  constructor(options: EventLoopOptions = {}) {
    this.resolution = checkPositiveInteger('eventLoop.resolution', options.resolution ?? 10, 1, 1_000)
    this.window = checkPositiveInteger('eventLoop.window', options.window ?? 1_000, 10, 3_600_000)
    this.maxDelay = checkRange('eventLoop.maxDelay', options.maxDelay ?? 200, 1, 3_600_000, 'milliseconds')
    this.maxUtilization = checkRange('eventLoop.maxUtilization', options.maxUtilization ?? 0.98, 0.01, 1, 'a ratio')
  }

  /** `true` between `start()` and `stop()`. */
  get running(): boolean {
    return this.#histogram !== undefined
  }

  /** Starts measuring. Idempotent. */
  start(): void {
    if (this.#histogram !== undefined) return
    this.#histogram = monitorEventLoopDelay({ resolution: this.resolution })
    this.#histogram.enable()
    this.#lastElu = performance.eventLoopUtilization()
    this.#lastAt = performance.now()
    this.#timer = setInterval(() => this.#closeWindow(), this.window)
    this.#timer.unref()
  }

  /** Stops measuring and releases the timer and the histogram. Idempotent. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#histogram?.disable()
    this.#timer = undefined
    this.#histogram = undefined
  }

  /** The last complete window (zeros before the first one completes). A fresh frozen object. */
  snapshot(): EventLoopSnapshot {
    return this.#snapshot
  }

  #closeWindow(): void {
    const histogram = this.#histogram
    if (histogram === undefined) return
    const now = performance.now()
    const elu = performance.eventLoopUtilization()
    const delta = performance.eventLoopUtilization(elu, this.#lastElu)
    const samples = histogram.count > 0
    const p99 = samples ? toMs(histogram.percentile(99)) : 0
    const utilization = Math.round(delta.utilization * 1_000) / 1_000
    this.#snapshot = Object.freeze({
      delayMs: Object.freeze({
        p50: samples ? toMs(histogram.percentile(50)) : 0,
        p90: samples ? toMs(histogram.percentile(90)) : 0,
        p99,
        max: samples ? toMs(histogram.max) : 0,
        mean: samples ? toMs(histogram.mean) : 0,
      }),
      utilization,
      windowMs: Math.round(now - this.#lastAt),
      overloaded: p99 > this.maxDelay || utilization > this.maxUtilization,
    })
    histogram.reset()
    this.#lastElu = elu
    this.#lastAt = now
  }
}

function checkRange(option: string, value: unknown, min: number, max: number, what: string): number {
  if (typeof value === 'number' && value >= min && value <= max) return value
  throw new InvalidOptionError(option, `${what} from ${min} to ${max}`, value)
}

function checkPositiveInteger(option: string, value: unknown, min: number, max: number): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value
  throw new InvalidOptionError(option, `an integer from ${min} to ${max} (ms)`, value)
}
