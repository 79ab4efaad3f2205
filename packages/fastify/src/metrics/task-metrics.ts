import type { CloseReport, Scheduler } from '@fastify-tasks/core'
import { InvalidOptionError } from '@fastify-tasks/core'
import { checkArray, checkBoolean, checkInteger, checkKnownKeys, checkObject } from '@fastify-tasks/core/validation'
import { Counter, Gauge, Registry } from 'prom-client'
import { renderExposition } from './exposition.js'
import { FastHistogram, type HistogramSeries } from './fast-histogram.js'
import { resolveGuard, type DebugGuard } from '../guard.js'
import { PROCESS_MARKER_METRIC, ProcessMetrics } from './process-metrics.js'
import { TaskCounter } from './task-counter.js'
import { OUTCOMES, REJECT_REASONS, RELEASES, TaskCounts } from './task-counts.js'
import { OTHER_TASKS, TaskNameLabels } from './task-name-labels.js'
import type { Backpressure } from '../backpressure/backpressure.js'
import type { EventLoopMonitor } from '../backpressure/event-loop-monitor.js'

/** Options of the metrics (collection, and the `/metrics` route the default export registers). */
export interface MetricsOptions {
  /**
   * Path of the route, under the plugin's prefix.
   * @default '/metrics'
   */
  path?: string
  /**
   * `false` collects metrics but registers no route: mount `metricsRoute` yourself (under a prefix,
   * behind your own hooks), or serve `app.tasks.metrics.registry` your way.
   * @default true
   */
  route?: boolean
  /** The prom-client registry to register in; your own metrics then appear too. @default a new one per app */
  registry?: Registry
  /**
   * Requires `Authorization: Bearer <token>` on the `/metrics` route (at least 16 characters).
   * Give `token` or `guard`, not both.
   * @default none: the route answers anyone who can reach the port
   */
  token?: string
  /**
   * Your own `onRequest` check on the `/metrics` route: throw (or reply) to refuse; `loopbackOnly`
   * (exported) allows loopback peers only.
   * @default none: the route answers anyone who can reach the port
   */
  guard?: DebugGuard
  /**
   * Prefix of every fastify-tasks metric name. Two apps sharing one registry need different ones.
   * @default 'fastify_tasks_'
   */
  prefix?: string
  /**
   * Distinct task names kept as `task` label values; later names share the value `__other__`.
   * @default 100
   */
  maxTaskNames?: number
  /** Buckets of the task duration histogram, in seconds. @default 5 ms to 10 min */
  durationBuckets?: readonly number[]
  /** Buckets of the queue-wait histogram, in seconds. @default 1 ms to 5 min */
  queueWaitBuckets?: readonly number[]
  /** Buckets of the HTTP request duration histogram, in seconds. @default 5 ms to 10 s */
  httpBuckets?: readonly number[]
  /**
   * `false` leaves out the HTTP request duration histogram.
   * @default true
   */
  http?: boolean
  /**
   * Node's process metrics (CPU, memory, heap, GC, event-loop lag…). Skipped if the registry already
   * has them. `false` leaves them out.
   * @default true
   */
  processMetrics?: boolean
}

export const DEFAULT_DURATION_BUCKETS = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600])
export const DEFAULT_QUEUE_WAIT_BUCKETS = Object.freeze([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300])
export const DEFAULT_HTTP_BUCKETS = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10])

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/

/** Resolved, validated metrics options. */
export interface ResolvedMetricsOptions {
  path: string
  route: boolean
  registry: Registry
  ownRegistry: boolean
  /** Who may read the route; `undefined`: anyone. */
  guard: DebugGuard | undefined
  prefix: string
  maxTaskNames: number
  durationBuckets: number[]
  queueWaitBuckets: number[]
  httpBuckets: number[]
  http: boolean
  processMetrics: boolean
}

/** Histogram bucket bounds: strictly increasing, positive, finite seconds. */
const BUCKETS = {
  of: 'increasing positive numbers (seconds)',
  minLength: 1,
  every: (b: unknown, i: number, all: readonly unknown[]) =>
    typeof b === 'number' && Number.isFinite(b) && b > 0 && (i === 0 || b > (all[i - 1] as number)),
} as const

function checkBuckets(name: string, value: unknown, fallback: readonly number[]): number[] {
  return value === undefined ? [...fallback] : [...(checkArray(name, value, BUCKETS) as number[])]
}

/** What the metrics use of a registry. */
const REGISTRY_METHODS = [
  'registerMetric',
  'getSingleMetric',
  'removeSingleMetric',
  'getMetricsAsArray',
  'getSingleMetricAsString',
  'metrics',
  'resetMetrics',
] as const

/**
 * A prom-client registry, judged by what it has rather than by `instanceof`: a registry made by
 * another copy of prom-client (your app's own dependency, a different version) is just as good.
 */
function isRegistry(value: unknown): value is Registry {
  if (typeof value !== 'object' || value === null) return false
  const candidate = value as Record<string, unknown>
  return REGISTRY_METHODS.every((method) => typeof candidate[method] === 'function') && typeof candidate['contentType'] === 'string'
}

/** Validates metrics options, naming any bad one. */
export function resolveMetricsOptions(options: MetricsOptions): ResolvedMetricsOptions {
  checkObject('metrics', options)
  checkKnownKeys('metrics', options, [
    'path',
    'route',
    'registry',
    'token',
    'guard',
    'prefix',
    'maxTaskNames',
    'durationBuckets',
    'queueWaitBuckets',
    'httpBuckets',
    'http',
    'processMetrics',
  ])
  const {
    path = '/metrics',
    route = true,
    registry,
    prefix = 'fastify_tasks_',
    maxTaskNames = 100,
    http = true,
    processMetrics = true,
  } = options
  if (typeof path !== 'string' || !path.startsWith('/')) throw new InvalidOptionError('metrics.path', "a path starting with '/'", path)
  checkBoolean('metrics.route', route)
  if (registry !== undefined && !isRegistry(registry)) {
    throw new InvalidOptionError(
      'metrics.registry',
      `a prom-client Registry (an object with ${REGISTRY_METHODS.join('(), ')}() and contentType)`,
      registry,
    )
  }
  if (typeof prefix !== 'string' || (prefix !== '' && !NAME.test(prefix))) {
    throw new InvalidOptionError(
      'metrics.prefix',
      'a Prometheus metric name prefix (letters, digits, _ and :, not starting with a digit)',
      prefix,
    )
  }
  checkInteger('metrics.maxTaskNames', maxTaskNames, { min: 1, max: 10_000 })
  checkBoolean('metrics.http', http)
  checkBoolean('metrics.processMetrics', processMetrics)
  return {
    path,
    route,
    registry: registry ?? new Registry(),
    ownRegistry: registry === undefined,
    guard: resolveGuard('metrics', options.token, options.guard, undefined),
    prefix,
    maxTaskNames,
    durationBuckets: checkBuckets('metrics.durationBuckets', options.durationBuckets, DEFAULT_DURATION_BUCKETS),
    queueWaitBuckets: checkBuckets('metrics.queueWaitBuckets', options.queueWaitBuckets, DEFAULT_QUEUE_WAIT_BUCKETS),
    httpBuckets: checkBuckets('metrics.httpBuckets', options.httpBuckets, DEFAULT_HTTP_BUCKETS),
    http,
    processMetrics,
  }
}

/**
 * The Prometheus metrics of one app's scheduler. Counts are kept in plain per-name fields on the hot
 * path, which the task counters read at scrape time; gauges are read from the scheduler at scrape
 * time; only the two task histograms (and the HTTP one) are observed as things happen. The counters
 * and histograms by task name (and route) write their own exposition text (see `exposition.ts`).
 */
export class TaskMetrics {
  /** The registry the metrics live in. */
  readonly registry: Registry
  readonly #options: ResolvedMetricsOptions
  readonly #names: TaskNameLabels
  #folded = 0
  /** The counts of every `task` label value, in the order the names were first seen. */
  readonly #taskCounts = new Map<string, TaskCounts>()
  readonly #registered: string[] = []
  readonly #unsubscribe: () => void
  readonly #process: ProcessMetrics | undefined
  readonly #duration: FastHistogram
  readonly #queueWait: FastHistogram
  readonly #http: FastHistogram | undefined
  /** HTTP series by `method route status`, bounded by the route table. */
  /** HTTP request series by route, then method, then status code: no key string built per request. */
  readonly #httpSeries = new Map<string, Map<string, Map<number, HistogramSeries>>>()

  /** @internal made by the plugin, from the parts it holds */
  constructor(scheduler: Scheduler, eventLoop: EventLoopMonitor, backpressure: Backpressure | undefined, options: ResolvedMetricsOptions) {
    this.#options = options
    this.registry = options.registry
    this.#names = new TaskNameLabels(options.maxTaskNames)
    const p = options.prefix
    const registry = this.registry
    const registers = [registry]
    const track = <M extends { name?: string }>(metric: M, name: string): M => {
      this.#registered.push(name)
      return metric
    }
    const register = <M>(name: string, make: () => M): M => {
      if (this.registry.getSingleMetric(name) !== undefined) {
        this.#removeAll()
        throw new InvalidOptionError(
          'metrics.prefix',
          `a prefix no other app uses in this registry (metric "${name}" is already registered)`,
          p,
        )
      }
      return track(make() as M & { name?: string }, name)
    }
    // Counters by task name: their values are the plain per-name fields of TaskCounts, read at
    // scrape time. The gauge `draining` (label-less, formatted by prom-client) shows the registry's
    // default labels to the counters and histograms, which write their own text.
    const probe = `${p}draining`
    const counts = this.#taskCounts
    const counter = (
      name: string,
      help: string,
      by: { label: string; values: readonly string[] } | undefined,
      read: (counts: TaskCounts, i: number) => number,
      zero: (counts: TaskCounts) => void,
    ): void => {
      register(
        `${p}${name}`,
        () => new TaskCounter({ name: `${p}${name}`, help, ...(by === undefined ? {} : { by }), counts, read, zero, probe, registry }),
      )
    }
    counter(
      'spawned_total',
      'Tasks admitted, by task name.',
      undefined,
      (c) => c.spawned,
      (c) => (c.spawned = 0),
    )
    counter(
      'rejected_total',
      'Spawns refused at admission, by task name and reason (queue_full, overloaded, closing, unavailable).',
      { label: 'reason', values: REJECT_REASONS },
      (c, i) => c.rejected[i]!,
      (c) => c.rejected.fill(0),
    )
    counter(
      'finished_total',
      'Tasks that reached a terminal state, by task name and outcome (completed, failed, cancelled, timed_out, dropped).',
      { label: 'outcome', values: OUTCOMES },
      (c, i) => c.finished[i]!,
      (c) => c.finished.fill(0),
    )
    counter(
      'retries_total',
      'Failed attempts of named tasks that will be retried (each retry once), by task name.',
      undefined,
      (c) => c.retries,
      (c) => (c.retries = 0),
    )
    counter(
      'leaked_total',
      'Tasks flagged leaked: still unsettled abortGrace after their abort.',
      undefined,
      (c) => c.leaked,
      (c) => (c.leaked = 0),
    )
    counter(
      'hung_total',
      "Tasks proven hung: given up on, and their function's promise collected by the garbage collector, so nothing could ever settle it.",
      undefined,
      (c) => c.hung,
      (c) => (c.hung = 0),
    )
    counter(
      'abandoned_total',
      'Tasks abandoned by the drain at shutdown (dropped before running, or aborted), by task name.',
      undefined,
      (c) => c.abandoned,
      (c) => (c.abandoned = 0),
    )
    counter(
      'released_total',
      'Given-up tasks (aborted, function never settled) released from tracking, by task name and release (evicted: the given-up cap was reached; expired: givenUpTtl; closed: at close).',
      { label: 'release', values: RELEASES },
      (c, i) => c.released[i]!,
      (c) => c.released.fill(0),
    )
    counter(
      'late_settled_total',
      'Functions of released tasks that settled after all (counted, otherwise ignored), by task name.',
      undefined,
      (c) => c.late,
      (c) => (c.late = 0),
    )

    // Gauges, read at scrape time.
    const gauge = (name: string, help: string, read: () => number): void => {
      register(
        `${p}${name}`,
        () =>
          new Gauge({
            name: `${p}${name}`,
            help,
            registers,
            collect() {
              this.set(read())
            },
          }),
      )
    }
    register(
      `${p}live`,
      () =>
        new Gauge({
          name: `${p}live`,
          help: 'Live tasks by state (pending, running, aborting). Only running tasks hold a concurrency slot; aborting ones were given up on and are tracked until they settle.',
          labelNames: ['state'],
          registers,
          collect() {
            const { live } = scheduler.summary()
            this.set({ state: 'pending' }, live.pending)
            this.set({ state: 'running' }, live.running)
            this.set({ state: 'aborting' }, live.aborting)
          },
        }),
    )
    gauge('stuck', 'Running tasks with no progress for stuckAfter.', () => scheduler.summary().stuck)
    gauge('concurrency_limit', 'Tasks allowed to run at once (the effective limit).', () => scheduler.concurrency)
    const names = this.#names
    register(
      `${p}task_limit`,
      () =>
        new Gauge({
          name: `${p}task_limit`,
          help: 'Tasks of one name allowed to run at once (its adaptive or fixed limit), by task name. Names without a limit of their own are left out.',
          labelNames: ['task'],
          registers,
          collect() {
            this.reset()
            for (const limit of scheduler.limits()) {
              const label = limit.limit === null ? OTHER_TASKS : names.label(limit.name)
              if (label !== OTHER_TASKS) this.set({ task: label }, limit.limit!)
            }
          },
        }),
    )
    gauge('queue_capacity', 'Tasks allowed to wait for a slot (maxQueue).', () => scheduler.summary().limits.maxQueue)
    gauge(
      'oldest_running_start_time_seconds',
      'Unix time at which the oldest running task started (now when none runs), so time() - this is its age.',
      () => {
        const age = scheduler.summary().oldestRunningAgeMs ?? 0
        // eslint-disable-next-line no-restricted-properties -- the age is on the scheduler's clock; Unix time is the wall clock's, which a Clock (monotonic, any origin) cannot give
        return (Date.now() - age) / 1000
      },
    )
    gauge('draining', '1 while the app is closing and draining its tasks, else 0.', () => (scheduler.closing ? 1 : 0))
    gauge('overloaded', '1 while the event loop counts as overloaded, else 0.', () => (eventLoop.snapshot().overloaded ? 1 : 0))
    if (scheduler.summary().backend.kind !== 'memory') {
      // A durable backend: whether spawns can be admitted now, and how many wait for their acknowledgement.
      gauge('backend_connected', '1 while the durable backend reaches its broker (Redis), else 0.', () =>
        scheduler.summary().backend.connected === true ? 1 : 0,
      )
      gauge(
        'backend_admitting',
        'Spawns handed to the durable backend and not acknowledged yet.',
        () => scheduler.summary().backend.admitting,
      )
    }
    // These two follow running totals kept elsewhere: each scrape adds what grew since the last one,
    // so after a reset they count from the reset on, like the others.
    const reportedTrips = new Map<string, number>()
    register(
      `${p}overload_trips_total`,
      () =>
        new Counter({
          name: `${p}overload_trips_total`,
          help: 'Times the overload detector tripped, by signal (event_loop_blocked, event_loop_delay, event_loop_utilization).',
          labelNames: ['signal'],
          registers,
          collect() {
            for (const [signal, count] of Object.entries(eventLoop.snapshot().trips)) {
              this.inc({ signal }, Math.max(0, count - (reportedTrips.get(signal) ?? 0)))
              reportedTrips.set(signal, count)
            }
          },
        }),
    )
    let reportedDeferred = 0
    register(
      `${p}deferred_total`,
      () =>
        new Counter({
          name: `${p}deferred_total`,
          help: 'Spawns deferred (queued until the overload passed) by the backpressure.',
          registers,
          collect() {
            const deferred = scheduler.summary().deferred
            this.inc(Math.max(0, deferred - reportedDeferred))
            reportedDeferred = deferred
          },
        }),
    )
    gauge(
      'concurrency_max',
      'The configured concurrency: the ceiling adaptive concurrency grows back to.',
      () => backpressure?.state().concurrency.max ?? scheduler.concurrency,
    )
    gauge(
      'event_loop_utilization_ratio',
      'Share of the last measurement window the event loop was busy (0-1).',
      () => eventLoop.snapshot().utilization,
    )

    this.#duration = register(
      `${p}duration_seconds`,
      () =>
        new FastHistogram({
          name: `${p}duration_seconds`,
          help: 'Running time of tasks that ran, by task name and outcome.',
          labelNames: ['task', 'outcome'],
          buckets: options.durationBuckets,
          probe,
          registry,
        }),
    )
    this.#queueWait = register(
      `${p}queue_wait_seconds`,
      () =>
        new FastHistogram({
          name: `${p}queue_wait_seconds`,
          help: 'Time tasks waited for a concurrency slot, by task name.',
          labelNames: ['task'],
          buckets: options.queueWaitBuckets,
          probe,
          registry,
        }),
    )
    this.#http = options.http
      ? register(
          `${p}http_request_duration_seconds`,
          () =>
            new FastHistogram({
              name: `${p}http_request_duration_seconds`,
              help: 'HTTP request duration by method, route template and status code.',
              labelNames: ['method', 'route', 'status_code'],
              buckets: options.httpBuckets,
              probe,
              registry,
            }),
        )
      : undefined

    this.#process =
      options.processMetrics && this.registry.getSingleMetric(PROCESS_MARKER_METRIC) === undefined
        ? this.#trackProcessMetrics(() => new ProcessMetrics(this.registry, eventLoop))
        : undefined

    this.#unsubscribe = scheduler.subscribe({
      spawned: (task) => {
        const counts = this.#counts(task.name)
        if (counts.task === OTHER_TASKS) this.#folded++
        counts.spawned++
      },
      rejected: (spawn) => {
        this.#counts(spawn.name).rejected[REJECT_REASONS.indexOf(spawn.error.reason)]!++
      },
      started: (task, queueWaitMs) => {
        this.#counts(task.name).queueWait.observe(queueWaitMs / 1000)
      },
      settled: (task, settlement, durationMs) => {
        const counts = this.#counts(task.name)
        const index = OUTCOMES.indexOf(settlement.outcome)
        counts.finished[index]!++
        if (durationMs !== null) {
          const series = (counts.duration[index] ??= this.#duration.series([counts.task, settlement.outcome]))
          series.observe(durationMs / 1000)
        }
        if (task.release !== undefined) counts.released[RELEASES.indexOf(task.release)]!++
      },
      late: (task) => {
        this.#counts(task.name).late++
      },
      retrying: (task) => {
        this.#counts(task.name).retries++
      },
      leaked: (task) => {
        this.#counts(task.name).leaked++
      },
      hung: (task) => {
        this.#counts(task.name).hung++
      },
    })
  }

  /** The registry's exposition as UTF-8 bytes, this app's series rendered by themselves (what the `/metrics` route serves). */
  exposition(): Promise<Buffer> {
    return renderExposition(this.registry)
  }

  /** Records an HTTP request (called from the plugin's `onResponse` hook). */
  observeRequest(method: string, route: string, statusCode: number, seconds: number): void {
    const http = this.#http
    if (http === undefined) return
    let byMethod = this.#httpSeries.get(route)
    if (byMethod === undefined) this.#httpSeries.set(route, (byMethod = new Map<string, Map<number, HistogramSeries>>()))
    let byStatus = byMethod.get(method)
    if (byStatus === undefined) byMethod.set(method, (byStatus = new Map<number, HistogramSeries>()))
    let series = byStatus.get(statusCode)
    if (series === undefined) byStatus.set(statusCode, (series = http.series([method, route, String(statusCode)])))
    series.observe(seconds)
  }

  /** Counts what the drain abandoned, by task name. */
  recordAbandoned(report: CloseReport): void {
    for (const group of report.abandoned) this.#counts(group.name).abandoned += group.count
  }

  /** Spawns whose name was folded into the `__other__` label value. */
  get foldedTaskNames(): number {
    return this.#folded
  }

  /** Stops listening, stops the GC observer, and removes these metrics from a shared registry. */
  close(): void {
    this.#unsubscribe()
    this.#process?.stop()
    if (!this.#options.ownRegistry) this.#removeAll()
  }

  /** The last task name looked up and its counts: consecutive events are mostly about one name (entries are never removed). */
  #lastName: string | undefined = undefined
  #lastCounts: TaskCounts | undefined = undefined

  #counts(name: string): TaskCounts {
    if (name === this.#lastName) return this.#lastCounts!
    const counts = this.#countsOf(this.#names.label(name))
    this.#lastName = name
    this.#lastCounts = counts
    return counts
  }

  #countsOf(label: string): TaskCounts {
    let counts = this.#taskCounts.get(label)
    if (counts === undefined) {
      counts = new TaskCounts(label, this.#queueWait.series([label]))
      this.#taskCounts.set(label, counts)
    }
    return counts
  }

  #trackProcessMetrics(make: () => ProcessMetrics): ProcessMetrics {
    const before = new Set(this.registry.getMetricsAsArray().map((m) => m.name))
    const metrics = make()
    for (const m of this.registry.getMetricsAsArray()) if (!before.has(m.name)) this.#registered.push(m.name)
    return metrics
  }

  #removeAll(): void {
    for (const name of this.#registered) this.registry.removeSingleMetric(name)
    this.#registered.length = 0
  }
}
