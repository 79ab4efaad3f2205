import type { AdmissionCheck, Clock, Scheduler, StartGate } from '@fastify-tasks/core'
import type { Registry } from 'prom-client'
import type { BackpressureState } from '../backpressure/backpressure.js'
import type { EventLoopSnapshot } from '../backpressure/event-loop-monitor.js'

/**
 * `app.tasks.eventLoop`: what the plugin's event-loop monitor shows. Read-only: the plugin starts it
 * in `onReady` and stops it on close.
 */
export interface EventLoopStatus {
  /** Whether the process counts as overloaded now: one comparison, cheap enough for every request. */
  readonly overloaded: boolean
  /** `true` between the app's `onReady` and its close. */
  readonly running: boolean
  /** The last complete window and the overload state now, as a fresh frozen object. */
  snapshot(): EventLoopSnapshot
  /** The clock the monitor, the log rate limit and `listenGracefully` read time from (the scheduler's `clock` option). */
  readonly clock: Clock
  /** The `eventLoop.resolution` option in effect, in ms. */
  readonly resolution: number
  /** The `eventLoop.window` option in effect, in ms. */
  readonly window: number
  /** The `eventLoop.maxDelay` option in effect, in ms. */
  readonly maxDelay: number
  /** The `eventLoop.maxUtilization` option in effect, 0–1. */
  readonly maxUtilization: number
  /** The `eventLoop.tick` option in effect, in ms. */
  readonly tickMs: number
}

/** `app.tasks.backpressure`: what the event-loop backpressure is doing. */
export interface BackpressureStatus {
  /** The monitor's overload signal, or that of an `@fastify/under-pressure` the app registered first. */
  readonly overloaded: boolean
  /**
   * Why the process is under pressure now, as adaptive limits per task name are told: the monitor's
   * overload signal (`event_loop_delay`…), `under_pressure` while the @fastify/under-pressure
   * instance in use says so (its heap and RSS thresholds included), or `undefined`.
   */
  readonly pressure: () => string | undefined
  /** What the backpressure is doing now, as a fresh object. */
  state(): BackpressureState
  /** The admission check the plugin gave the scheduler (composed with yours, if any). */
  readonly admission: AdmissionCheck
  /** The start gate the plugin gave the scheduler (composed with yours, if any). */
  readonly startGate: StartGate
}

/** `app.tasks.metrics`: where the plugin's Prometheus metrics live. */
export interface MetricsStatus {
  /** The prom-client registry holding the plugin's metrics (yours, given as `metrics.registry`, or a new one). */
  readonly registry: Registry
  /** How many task names have been folded into `__other__` (past `metrics.maxTaskNames`). */
  readonly foldedTaskNames: number
  /**
   * The registry's exposition in the Prometheus text format, as UTF-8 bytes: what the `/metrics` route
   * serves, and what `registry.metrics()` writes (every metric of the registry, yours too, in the same
   * order and spelling), but with the plugin's series rendered by themselves, several times faster.
   * To serve the registry your own way (`metrics.route: false`), send it with `registry.contentType`.
   */
  exposition(): Promise<Buffer>
}

/** The parts the plugin made, handed to `app.tasks` when it is made. */
export interface AppTaskParts {
  readonly eventLoop: EventLoopStatus
  readonly backpressure: BackpressureStatus | undefined
  /** Makes the metrics for the scheduler being constructed (they subscribe to it), or `undefined` without metrics. */
  readonly metrics: (scheduler: Scheduler) => MetricsStatus | undefined
}
