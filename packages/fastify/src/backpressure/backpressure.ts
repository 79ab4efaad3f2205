import { InvalidOptionError, PRIORITIES, type AdmissionCheck, type Priority, type Scheduler, type StartGate } from '@fastify-tasks/core'
import { checkBoolean, checkKnownKeys, checkNumber, checkObject, checkObjectOrFalse, checkOneOf } from '@fastify-tasks/core/validation'
import underPressure from '@fastify/under-pressure'
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { ConcurrencyController, type AdaptiveConcurrencyOptions } from './concurrency-controller.js'
import { OverloadedRequestError } from '../errors.js'
import type { EventLoopMonitor } from './event-loop-monitor.js'

/** Options of the `@fastify/under-pressure` instance fastify-tasks registers. */
export interface UnderPressureOptions {
  /** Its mean event-loop delay threshold, ms. @default the `eventLoop.maxDelay` */
  maxEventLoopDelay?: number
  /** Its event-loop utilization threshold (per sample interval). @default the `eventLoop.maxUtilization` */
  maxEventLoopUtilization?: number
  /** Heap threshold, bytes. @default none */
  maxHeapUsedBytes?: number
  /** RSS threshold, bytes. @default none */
  maxRssBytes?: number
  /** Path of its status route (which keeps answering under pressure), or `false`. @default '/status' */
  statusRoute?: string | false
}

/** How the app protects itself when the event loop is overloaded. */
export interface BackpressureOptions {
  /**
   * Ordinary routes answer `503` with `Retry-After` while overloaded. Routes with
   * `config: { fastifyTasks: { essential: true } }` keep answering (`/metrics`, `/debug/tasks`, the
   * status route have it).
   * @default true
   */
  requests?: boolean
  /**
   * Registers `@fastify/under-pressure` with these thresholds (fed the overload signal as its health
   * check). If the app registered it already (before fastify-tasks), that instance is used instead;
   * there are never two. `false`: do not register it.
   * @default {}
   */
  underPressure?: UnderPressureOptions | false
  /**
   * The lowest priority still admitted while overloaded; spawns below it are shed (`onOverload`).
   * @default 'high'
   */
  admitWhenOverloaded?: Priority
  /**
   * `reject`: shed spawns throw `OverloadedError` (503 if it escapes a handler). `defer`: they are
   * queued and start once the overload is over.
   * @default 'reject'
   */
  onOverload?: 'reject' | 'defer'
  /**
   * Adaptive concurrency: shrink the running limit when event-loop delay rises above a target, grow
   * it back when it recovers, within [min, concurrency]. `false` keeps it fixed.
   * @default {}
   */
  adaptive?: AdaptiveConcurrencyOptions | false
}

/** What the backpressure is doing now (shown in `/debug/tasks`). */
export interface BackpressureState {
  readonly overloaded: boolean
  readonly admitWhenOverloaded: Priority
  readonly onOverload: 'reject' | 'defer'
  /** Requests answered 503 by fastify-tasks' own check since start. */
  readonly requestsShed: number
  readonly concurrency: {
    readonly effective: number
    readonly max: number
    readonly min: number
    readonly adaptive: boolean
    readonly decreases: number
    readonly increases: number
  }
  /** `@fastify/under-pressure`: registered by fastify-tasks, found already registered, or none. */
  readonly underPressure: 'registered' | 'existing' | 'none'
}

const PASS_THROUGH = (): undefined => undefined

/** Route config that keeps a route answering under pressure (both fastify-tasks' check and under-pressure's). */
export const ESSENTIAL_ROUTE = Object.freeze({ fastifyTasks: Object.freeze({ essential: true }), pressureHandler: PASS_THROUGH })

function isEssential(request: FastifyRequest): boolean {
  const config = request.routeOptions.config as { fastifyTasks?: { essential?: boolean } } | undefined
  return config?.fastifyTasks?.essential === true
}

/**
 * Event-loop backpressure: 503 for requests, and admission control that sheds or defers background
 * work below a priority first, plus adaptive concurrency. Built before the scheduler (it provides
 * its admission check and start gate), attached after.
 */
export class Backpressure {
  readonly #monitor: EventLoopMonitor
  readonly #options: Required<Pick<BackpressureOptions, 'requests' | 'admitWhenOverloaded' | 'onOverload'>> & {
    underPressure: UnderPressureOptions | false
    adaptive: AdaptiveConcurrencyOptions | false
  }
  readonly #rank: number
  #controller: ConcurrencyController | undefined
  #scheduler: Scheduler | undefined
  #externalPressure: (() => boolean) | undefined
  /** `isUnderPressure()` of the under-pressure instance in use (the app's or ours): memory thresholds too. */
  #underPressureCheck: (() => boolean) | undefined
  #underPressure: BackpressureState['underPressure'] = 'none'
  #requestsShed = 0

  constructor(monitor: EventLoopMonitor, options: BackpressureOptions) {
    checkObject('backpressure', options)
    checkKnownKeys('backpressure', options, ['requests', 'underPressure', 'admitWhenOverloaded', 'onOverload', 'adaptive'])
    const { requests = true, underPressure: up = {}, admitWhenOverloaded = 'high', onOverload = 'reject', adaptive = {} } = options
    checkBoolean('backpressure.requests', requests)
    checkOneOf('backpressure.admitWhenOverloaded', admitWhenOverloaded, PRIORITIES)
    checkOneOf('backpressure.onOverload', onOverload, ['reject', 'defer'])
    checkObjectOrFalse('backpressure.underPressure', up)
    checkObjectOrFalse('backpressure.adaptive', adaptive)
    if (up !== false) {
      checkKnownKeys('backpressure.underPressure', up, [
        'maxEventLoopDelay',
        'maxEventLoopUtilization',
        'maxHeapUsedBytes',
        'maxRssBytes',
        'statusRoute',
      ])
      for (const key of ['maxEventLoopDelay', 'maxEventLoopUtilization', 'maxHeapUsedBytes', 'maxRssBytes'] as const) {
        if (up[key] !== undefined) checkNumber(`backpressure.underPressure.${key}`, up[key], { above: 0 })
      }
    }
    if (adaptive !== false) checkKnownKeys('backpressure.adaptive', adaptive, ['targetDelay', 'min', 'decrease', 'increase'])
    this.#monitor = monitor
    this.#options = { requests, admitWhenOverloaded, onOverload, underPressure: up, adaptive }
    this.#rank = PRIORITIES.indexOf(admitWhenOverloaded)
  }

  /** Whether the process counts as overloaded now (the monitor's signal, or under-pressure's). */
  get overloaded(): boolean {
    return this.#monitor.overloaded || (this.#externalPressure?.() ?? false)
  }

  /**
   * Why the process is under pressure now, or `undefined`: what adaptive limits per task name are
   * told. The monitor's overload signal, else `under_pressure` while the @fastify/under-pressure
   * instance in use (the app's, or the one registered here with its heap and RSS thresholds) says so.
   */
  readonly pressure = (): string | undefined => {
    if (this.#monitor.overloaded) return this.#monitor.snapshot().overloadSignal ?? 'event_loop_delay'
    return this.#underPressureCheck?.() === true ? 'under_pressure' : undefined
  }

  /** The scheduler's admission check: below `admitWhenOverloaded`, shed or defer while overloaded. */
  readonly admission: AdmissionCheck = ({ priority }) => {
    if (PRIORITIES.indexOf(priority) <= this.#rank || !this.overloaded) return true
    return this.#options.onOverload === 'defer' ? 'defer' : false
  }

  /** The scheduler's start gate: with `defer`, waiting low-priority work holds while overloaded. */
  readonly startGate: StartGate = (priority) =>
    this.#options.onOverload !== 'defer' || PRIORITIES.indexOf(priority) <= this.#rank || !this.overloaded

  /** Wires requests, under-pressure and adaptive concurrency into the app. */
  async attach(fastify: FastifyInstance, scheduler: Scheduler, retryAfter: number): Promise<void> {
    this.#scheduler = scheduler
    const { adaptive, underPressure: up, requests } = this.#options
    if (adaptive !== false) this.#controller = new ConcurrencyController(scheduler.concurrency, adaptive)
    this.#monitor.onWindow((stats, overloaded) => {
      if (this.#controller !== undefined) {
        scheduler.concurrency = this.#controller.step(stats.delayMs.p99, overloaded, scheduler.summary().live.pending)
      }
      scheduler.recheckStartGate()
      // A durable backend's jobs go to other replicas while this one is overloaded.
      scheduler.pauseBackend(overloaded)
    })

    if (fastify.hasDecorator('isUnderPressure')) {
      this.#underPressure = 'existing'
    } else if (up !== false) {
      const statusRoute = up.statusRoute ?? '/status'
      if (statusRoute !== false && (typeof statusRoute !== 'string' || !statusRoute.startsWith('/'))) {
        throw new InvalidOptionError('backpressure.underPressure.statusRoute', "a path starting with '/', or false", statusRoute)
      }
      await fastify.register(underPressure, {
        maxEventLoopDelay: up.maxEventLoopDelay ?? this.#monitor.maxDelay,
        maxEventLoopUtilization: up.maxEventLoopUtilization ?? this.#monitor.maxUtilization,
        eventLoopUtilizationMode: 'interval',
        sampleInterval: this.#monitor.window,
        ...(up.maxHeapUsedBytes === undefined ? {} : { maxHeapUsedBytes: up.maxHeapUsedBytes }),
        ...(up.maxRssBytes === undefined ? {} : { maxRssBytes: up.maxRssBytes }),
        retryAfter: Math.max(1, Math.ceil(retryAfter)),
        // With requests: false, under-pressure keeps its own thresholds but is not fed the signal.
        ...(requests
          ? { healthCheck: () => Promise.resolve(!this.#monitor.overloaded), healthCheckInterval: Math.max(10, this.#monitor.tickMs * 5) }
          : {}),
        ...(statusRoute === false ? {} : { exposeStatusRoute: { url: statusRoute, routeOpts: { config: { ...ESSENTIAL_ROUTE } } } }),
      })
      this.#underPressure = 'registered'
    }
    if (this.#underPressure !== 'none') {
      const app = fastify as FastifyInstance & { isUnderPressure: () => boolean }
      this.#underPressureCheck = () => app.isUnderPressure()
      // The app's own instance also counts for admission; ours is fed the monitor's verdict already.
      if (this.#underPressure === 'existing') this.#externalPressure = this.#underPressureCheck
    }

    if (requests) {
      const header = String(Math.max(1, Math.ceil(retryAfter)))
      fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
        if (!this.#monitor.overloaded || isEssential(request)) {
          done()
          return
        }
        this.#requestsShed++
        void reply.code(503).header('retry-after', header)
        done(new OverloadedRequestError(this.#monitor.snapshot().overloadSignal ?? 'event loop'))
      })
    }
  }

  /** What the backpressure is doing now. */
  state(): BackpressureState {
    const scheduler = this.#scheduler
    const controller = this.#controller
    const effective = scheduler?.concurrency ?? 0
    return {
      overloaded: this.overloaded,
      admitWhenOverloaded: this.#options.admitWhenOverloaded,
      onOverload: this.#options.onOverload,
      requestsShed: this.#requestsShed,
      concurrency: {
        effective,
        max: controller?.max ?? effective,
        min: controller?.min ?? effective,
        adaptive: controller !== undefined,
        decreases: controller?.adjustments.decreases ?? 0,
        increases: controller?.adjustments.increases ?? 0,
      },
      underPressure: this.#underPressure,
    }
  }
}
