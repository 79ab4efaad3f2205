import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks'
import { systemClock, type Clock } from '@fastify-tasks/core'
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

/** What a sampler measured over one window. */
export interface EventLoopSample {
  /** Event-loop lag over the window, in ms (see {@link lagFigures}). */
  readonly delayMs: EventLoopSnapshot['delayMs']
  /** Share of the window the event loop spent busy, 0–1. */
  readonly utilization: number
}

/**
 * Where the monitor's measurements come from: Node's event-loop delay histogram and
 * `performance.eventLoopUtilization()` by default. A test passes its own, sets what each window
 * reads, and drives the monitor's windows and overload transitions with a `ManualClock`.
 */
export interface EventLoopSampler {
  /** Starts measuring. */
  start(): void
  /** What was measured since `start()` or the last `take()`; the next measurement starts from here. */
  take(): EventLoopSample
  /** Stops measuring and releases what `start()` took. */
  stop(): void
}

/** The real measurements: Node's delay histogram sampled every `resolution` ms, and event-loop utilization. */
export function nodeEventLoopSampler(resolution: number): EventLoopSampler {
  let histogram: IntervalHistogram | undefined
  let lastElu: EventLoopUtilization | undefined
  return {
    start() {
      histogram = monitorEventLoopDelay({ resolution })
      histogram.enable()
      lastElu = performance.eventLoopUtilization()
    },
    take() {
      const elu = performance.eventLoopUtilization()
      const utilization = performance.eventLoopUtilization(elu, lastElu).utilization
      const delayMs = histogram === undefined ? EMPTY_WINDOW.delayMs : lagFigures(histogram, resolution)
      histogram?.reset()
      lastElu = elu
      return { delayMs, utilization }
    },
    stop() {
      histogram?.disable()
      histogram = undefined
    },
  }
}

/**
 * Measures event-loop delay and utilization per window, and decides when the process is overloaded
 * (see {@link OverloadDetector}), with one timer on its clock (unref'ed on the real one). The window
 * closes on a tick, which a blocked loop delays: the block lands in the window that closes right
 * after it, never erased by a reset during the block.
 *
 * Time comes from `clock` (the plugin passes the scheduler's `clock` option), measurements from
 * `sampler` (Node's, by default): with a `ManualClock` and a sampler of their own, tests step through
 * windows, blocks and overloads without waiting.
 */
export class EventLoopMonitor {
  readonly resolution: number
  readonly window: number
  readonly maxDelay: number
  readonly maxUtilization: number
  readonly tickMs: number
  /** The monitor's source of time: the scheduler's clock in the plugin, the real one by default. */
  readonly clock: Clock
  readonly #sampler: EventLoopSampler
  readonly #detector: OverloadDetector
  readonly #onWindow: ((stats: WindowStats, overloaded: boolean) => void)[] = []
  #running = false
  #timer: unknown = undefined
  #windowStart = 0
  #lastTick = 0
  #last: WindowStats = EMPTY_WINDOW

  constructor(options: EventLoopOptions = {}, clock: Clock = systemClock, sampler?: EventLoopSampler) {
    checkKnownKeys('eventLoop', options, ['resolution', 'window', 'maxDelay', 'maxUtilization', 'tick', 'holdFor', 'holdAfterBlock'])
    this.resolution = checkInteger('eventLoop.resolution', options.resolution ?? 10, { min: 1, max: 1_000, unit: 'milliseconds' })
    this.window = checkInteger('eventLoop.window', options.window ?? 1_000, { min: 10, max: 3_600_000, unit: 'milliseconds' })
    this.maxDelay = checkDuration('eventLoop.maxDelay', options.maxDelay ?? 200, { min: 1, max: 3_600_000 })
    this.maxUtilization = checkNumber('eventLoop.maxUtilization', options.maxUtilization ?? 1, { min: 0.01, max: 1 })
    this.tickMs = checkInteger('eventLoop.tick', options.tick ?? 20, { min: 1, max: 60_000, unit: 'milliseconds' })
    const holdFor = checkDuration('eventLoop.holdFor', options.holdFor ?? this.window, { max: 3_600_000 })
    const holdAfterBlock = checkDuration('eventLoop.holdAfterBlock', options.holdAfterBlock ?? 100, { max: 3_600_000 })
    this.#detector = new OverloadDetector({ maxDelay: this.maxDelay, maxUtilization: this.maxUtilization, holdFor, holdAfterBlock })
    this.clock = clock
    this.#sampler = sampler ?? nodeEventLoopSampler(this.resolution)
  }

  /** `true` between `start()` and `stop()`. */
  get running(): boolean {
    return this.#running
  }

  /** Whether the process counts as overloaded now: one field read, cheap enough for every request. */
  get overloaded(): boolean {
    return this.#detector.overloaded(this.clock.now())
  }

  /** Calls `listener` each time a window closes (adaptive concurrency steps on it). */
  onWindow(listener: (stats: WindowStats, overloaded: boolean) => void): void {
    this.#onWindow.push(listener)
  }

  /** Starts measuring. Idempotent. */
  start(): void {
    if (this.#running) return
    this.#running = true
    this.#sampler.start()
    this.#windowStart = this.#lastTick = this.clock.now()
    this.#arm()
  }

  /** Stops measuring and releases the timer and the sampler. Idempotent. */
  stop(): void {
    if (!this.#running) return
    this.#running = false
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#sampler.stop()
  }

  /** The last complete window and the overload state now. A fresh frozen object. */
  snapshot(): EventLoopSnapshot {
    const now = this.clock.now()
    const since = this.#detector.since(now)
    return Object.freeze({
      ...this.#last,
      overloaded: this.#detector.overloaded(now),
      overloadSignal: this.#detector.signal(now),
      overloadedForMs: since === null ? null : Math.round(now - since),
      trips: this.#detector.trips,
    })
  }

  /** The next tick, `tickMs` from now (a blocked loop runs it late: that lateness is what it measures). */
  #arm(): void {
    this.#timer = this.clock.setTimeout(() => this.#tick(), this.tickMs)
  }

  #tick(): void {
    this.#arm()
    const now = this.clock.now()
    this.#detector.tick(now, now - this.#lastTick - this.tickMs)
    this.#lastTick = now
    if (now - this.#windowStart >= this.window) this.#closeWindow(now)
  }

  #closeWindow(now: number): void {
    const { delayMs, utilization } = this.#sampler.take()
    this.#last = {
      delayMs,
      utilization: Math.round(utilization * 1_000) / 1_000,
      windowMs: Math.round(now - this.#windowStart),
    }
    this.#detector.window(now, delayMs.p99, this.#last.utilization)
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
