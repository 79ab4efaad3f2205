import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks'
import { checkDuration, checkInteger, checkKnownKeys, checkNumber } from '@fastify-tasks/core/validation'
import { OverloadDetector, type OverloadSignal } from './overload-detector.js'

/** Event-loop health: the last complete window, and the overload state now. */
export interface EventLoopSnapshot {
  /**
   * Event-loop lag over the last window, in ms: how late the loop ran, by percentile. Node's delay
   * histogram records the sampling timer's period plus the lag; the period (`resolution`) is taken off
   * (clamped at 0), so an idle loop reads 0, not 10.
   */
  readonly delayMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number; readonly mean: number }
  /** Share of the last window the event loop spent busy, 0–1 (not a lifetime average). */
  readonly utilization: number
  /** Length of the last window, in ms; 0 before the first window completes. */
  readonly windowMs: number
  /** Whether the process counts as overloaded now. */
  readonly overloaded: boolean
  /** What tripped it: a blocked loop (a tick ran `maxDelay` late), a window's p99 delay, or its utilization. */
  readonly overloadSignal: OverloadSignal | null
  /** How long the current overload has lasted, in ms; `null` when not overloaded. */
  readonly overloadedForMs: number | null
  /** How many times each signal tripped since start. */
  readonly trips: Readonly<Record<OverloadSignal, number>>
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
   * The process counts as overloaded when a tick runs this many ms late (the loop was blocked), or
   * a window's p99 event-loop lag (the delay less the sampling `resolution`) exceeds it. (The p99, not the mean: a mean over the window hides
   * a single long block.)
   * @default 200
   */
  maxDelay?: number
  /**
   * …or when a window's event-loop utilization exceeds this ratio (0–1). Off by default (1): a
   * server saturated by many short requests is busy, not blocked, and its delay stays low; set it
   * (0.95, say) to shed at saturation too.
   * @default 1
   */
  maxUtilization?: number
  /**
   * Interval of the blocked-loop check, in ms.
   * @default 20
   */
  tick?: number
  /**
   * How long the overloaded state lasts after a window showed overload, in ms.
   * @default the window
   */
  holdFor?: number
  /**
   * The least it lasts after a single block (a late tick), in ms. It lasts as long as the block did,
   * up to `holdFor`: long enough to shed the requests that queued up during the block.
   * @default 100
   */
  holdAfterBlock?: number
}

interface WindowStats {
  delayMs: EventLoopSnapshot['delayMs']
  utilization: number
  windowMs: number
}

const EMPTY_WINDOW: WindowStats = {
  delayMs: Object.freeze({ p50: 0, p90: 0, p99: 0, max: 0, mean: 0 }),
  utilization: 0,
  windowMs: 0,
}

const toMs = (ns: number): number => Math.round(ns / 1e4) / 100

/** What the monitor reads of a delay histogram: Node's `IntervalHistogram`, or a stub in tests. */
export interface DelayHistogram {
  readonly count: number
  readonly max: number
  readonly mean: number
  percentile(percentile: number): number
}

/**
 * The lag figures of one window: each of the histogram's values (nanoseconds) less the sampling
 * period `resolutionMs`, clamped at 0, in ms rounded to 0.01. All 0 when the histogram has no sample.
 */
export function lagFigures(histogram: DelayHistogram, resolutionMs: number): EventLoopSnapshot['delayMs'] {
  if (histogram.count === 0) return EMPTY_WINDOW.delayMs
  const lag = (ns: number): number => Math.max(0, toMs(ns - resolutionMs * 1e6))
  return Object.freeze({
    p50: lag(histogram.percentile(50)),
    p90: lag(histogram.percentile(90)),
    p99: lag(histogram.percentile(99)),
    max: lag(histogram.max),
    mean: lag(histogram.mean),
  })
}

/**
 * Measures event-loop delay and utilization per window, and decides when the process is overloaded
 * (see {@link OverloadDetector}), with one unref'ed timer. The window closes on a tick, which a
 * blocked loop delays: the block lands in the window that closes right after it, never erased by a
 * reset during the block.
 */
export class EventLoopMonitor {
  readonly resolution: number
  readonly window: number
  readonly maxDelay: number
  readonly maxUtilization: number
  readonly tickMs: number
  readonly #detector: OverloadDetector
  readonly #onWindow: ((stats: WindowStats, overloaded: boolean) => void)[] = []
  #histogram: IntervalHistogram | undefined
  #timer: NodeJS.Timeout | undefined
  #lastElu: EventLoopUtilization | undefined
  #windowStart = 0
  #lastTick = 0
  #last: WindowStats = EMPTY_WINDOW

  constructor(options: EventLoopOptions = {}) {
    checkKnownKeys('eventLoop', options, ['resolution', 'window', 'maxDelay', 'maxUtilization', 'tick', 'holdFor', 'holdAfterBlock'])
    this.resolution = checkInteger('eventLoop.resolution', options.resolution ?? 10, { min: 1, max: 1_000, unit: 'milliseconds' })
    this.window = checkInteger('eventLoop.window', options.window ?? 1_000, { min: 10, max: 3_600_000, unit: 'milliseconds' })
    this.maxDelay = checkDuration('eventLoop.maxDelay', options.maxDelay ?? 200, { min: 1, max: 3_600_000 })
    this.maxUtilization = checkNumber('eventLoop.maxUtilization', options.maxUtilization ?? 1, { min: 0.01, max: 1 })
    this.tickMs = checkInteger('eventLoop.tick', options.tick ?? 20, { min: 1, max: 60_000, unit: 'milliseconds' })
    const holdFor = checkDuration('eventLoop.holdFor', options.holdFor ?? this.window, { max: 3_600_000 })
    const holdAfterBlock = checkDuration('eventLoop.holdAfterBlock', options.holdAfterBlock ?? 100, { max: 3_600_000 })
    this.#detector = new OverloadDetector({ maxDelay: this.maxDelay, maxUtilization: this.maxUtilization, holdFor, holdAfterBlock })
  }

  /** `true` between `start()` and `stop()`. */
  get running(): boolean {
    return this.#histogram !== undefined
  }

  /** Whether the process counts as overloaded now: one field read, cheap enough for every request. */
  get overloaded(): boolean {
    return this.#detector.overloaded(performance.now())
  }

  /** Calls `listener` each time a window closes (adaptive concurrency steps on it). */
  onWindow(listener: (stats: WindowStats, overloaded: boolean) => void): void {
    this.#onWindow.push(listener)
  }

  /** Starts measuring. Idempotent. */
  start(): void {
    if (this.#histogram !== undefined) return
    this.#histogram = monitorEventLoopDelay({ resolution: this.resolution })
    this.#histogram.enable()
    this.#lastElu = performance.eventLoopUtilization()
    this.#windowStart = this.#lastTick = performance.now()
    this.#timer = setInterval(() => this.#tick(), this.tickMs)
    this.#timer.unref()
  }

  /** Stops measuring and releases the timer and the histogram. Idempotent. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#histogram?.disable()
    this.#timer = undefined
    this.#histogram = undefined
  }

  /** The last complete window and the overload state now. A fresh frozen object. */
  snapshot(): EventLoopSnapshot {
    const now = performance.now()
    const since = this.#detector.since(now)
    return Object.freeze({
      ...this.#last,
      overloaded: this.#detector.overloaded(now),
      overloadSignal: this.#detector.signal(now),
      overloadedForMs: since === null ? null : Math.round(now - since),
      trips: this.#detector.trips,
    })
  }

  #tick(): void {
    const now = performance.now()
    this.#detector.tick(now, now - this.#lastTick - this.tickMs)
    this.#lastTick = now
    if (now - this.#windowStart >= this.window) this.#closeWindow(now)
  }

  #closeWindow(now: number): void {
    const histogram = this.#histogram
    if (histogram === undefined) return
    const elu = performance.eventLoopUtilization()
    const delta = performance.eventLoopUtilization(elu, this.#lastElu)
    const delayMs = lagFigures(histogram, this.resolution)
    const p99 = delayMs.p99
    const utilization = Math.round(delta.utilization * 1_000) / 1_000
    this.#last = {
      delayMs,
      utilization,
      windowMs: Math.round(now - this.#windowStart),
    }
    this.#detector.window(now, p99, utilization)
    histogram.reset()
    this.#lastElu = elu
    this.#windowStart = now
    const overloaded = this.#detector.overloaded(now)
    for (const listener of this.#onWindow) {
      try {
        listener(this.#last, overloaded)
      } catch {
        // A failing listener must not stop the monitor.
      }
    }
  }
}
