import {
  InvalidOptionError,
  type AnyTaskDefinition,
  type RepeatHandle,
  type RepeatOptions,
  type TaskDefinition,
  Scheduler,
  type SchedulerOptions,
  type SpawnOptions,
  type TaskContext,
  type TaskFunction,
  type TaskHandle,
  type TrustedSpawnFields,
} from '@fastify-tasks/core'
import { checkDuration } from '@fastify-tasks/core/validation'
import type { FastifyBaseLogger } from 'fastify'
import { withHttpAnswer } from '../errors.js'
import { LoggingTaskContext, type FastifyTaskDefinition, type FastifyTaskFunction } from './task-context.js'
import type { AppTaskParts, BackpressureStatus, EventLoopStatus, MetricsStatus } from './parts.js'

/** Options of `spawn` in fastify-tasks (`data` is the plugin's own: it carries the task's logger). */
export type FastifySpawnOptions = Omit<SpawnOptions, 'data'>

/**
 * `app.tasks`: the scheduler of one Fastify instance. Everything `Scheduler` offers (inspection,
 * cancellation, `subscribe`…), and a `spawn` whose task functions get a `log`.
 */
export class AppTasks extends Scheduler {
  readonly #log: FastifyBaseLogger
  /** What a task spawned without options outside any request carries: the app's logger, made once. */
  readonly #ownFields: TrustedSpawnFields
  #drainTimeout: number
  /** Named tasks go to a durable backend, where admission is asynchronous. */
  readonly #durable: boolean
  /** Event-loop delay and utilization per window, and the overload signal derived from them. */
  readonly eventLoop: EventLoopStatus
  /** The Prometheus metrics, unless the plugin was registered with `metrics: false`. */
  readonly metrics: MetricsStatus | undefined
  /** The event-loop backpressure, unless the plugin was registered with `backpressure: false`. */
  readonly backpressure: BackpressureStatus | undefined

  /** @internal made by the plugin, which owns the parts */
  constructor(options: SchedulerOptions, log: FastifyBaseLogger, drainTimeout: number, parts: AppTaskParts) {
    super(options)
    this.#log = log
    this.#ownFields = Object.freeze({ data: log })
    this.#durable = options.backend !== undefined
    this.#drainTimeout = drainTimeout
    this.eventLoop = parts.eventLoop
    this.backpressure = parts.backpressure
    this.metrics = parts.metrics(this)
  }

  /**
   * Milliseconds the drain on close lets tasks finish before aborting the rest. Settable until the
   * app closes (the graceful entrypoint shortens it for SIGINT).
   */
  get drainTimeout(): number {
    return this.#drainTimeout
  }

  set drainTimeout(value: number) {
    this.#drainTimeout = checkDuration('drainTimeout', value)
  }

  /**
   * Spawns a task outside any request. Its `log` is a child of `app.log`. A refused task throws an
   * `AdmissionError` carrying `statusCode` 503 and a `Retry-After` header, as from
   * `request.tasks.spawn`.
   */
  override spawn<P, R>(definition: FastifyTaskDefinition<P, R>, payload: NoInfer<P>, options?: FastifySpawnOptions): TaskHandle<R>
  override spawn<T>(name: string, fn: FastifyTaskFunction<T>, options?: FastifySpawnOptions): TaskHandle<T>
  override spawn(name: string | AnyTaskDefinition, fn: unknown, options?: FastifySpawnOptions): TaskHandle {
    checkSpawnOptions(options)
    if (options === undefined) return this.spawnWithLog(name, fn, undefined, this.#ownFields, true)!
    return this.spawnWithLog(name, fn, { ...options, data: this.#log }, undefined, true)!
  }

  /**
   * Best-effort spawning outside any request: like {@link AppTasks.spawn}, but a refused task
   * returns `undefined` instead of throwing (counted in `fastify_tasks_rejected_total`, logged at
   * most once per `logInterval` per task name and reason). Bad arguments still throw.
   */
  override trySpawn<P, R>(
    definition: FastifyTaskDefinition<P, R>,
    payload: NoInfer<P>,
    options?: FastifySpawnOptions,
  ): TaskHandle<R> | undefined
  override trySpawn<T>(name: string, fn: FastifyTaskFunction<T>, options?: FastifySpawnOptions): TaskHandle<T> | undefined
  override trySpawn(name: string | AnyTaskDefinition, fn: unknown, options?: FastifySpawnOptions): TaskHandle | undefined {
    checkSpawnOptions(options)
    if (options === undefined) return this.spawnWithLog(name, fn, undefined, this.#ownFields, false)
    return this.spawnWithLog(name, fn, { ...options, data: this.#log }, undefined, false)
  }

  /**
   * Spawns the named task `definition` every `options.every` ms (see the scheduler's `repeat`): an
   * in-process schedule whose runs are tracked tasks logging through `app.log`, shown in
   * `/debug/tasks`, never overlapping. Stopped by `app.close()`.
   */
  override repeat<P, R>(id: string, definition: FastifyTaskDefinition<P, R>, payload: NoInfer<P>, options: RepeatOptions): RepeatHandle {
    return super.repeat(id, definition as TaskDefinition<P, R>, payload, options)
  }

  /**
   * @internal Spawns a task whose logger is a child of the logger in its `data`. Either `options`
   * (checked with {@link checkSpawnOptions} by the caller and built afresh, `data` the logger: the
   * scheduler checks the rest), or, when it is `undefined`, `fields` the plugin built itself (not
   * checked again). With `orThrow` false, a refusal returns `undefined` (`trySpawn`); with `orThrow`
   * true, it throws the scheduler's `AdmissionError` with an HTTP answer added (`statusCode` 503,
   * `Retry-After`): this is where a refusal enters the HTTP layer.
   */
  spawnWithLog(
    name: string | AnyTaskDefinition,
    fn: unknown,
    options: SpawnOptions | undefined,
    fields: TrustedSpawnFields | undefined,
    orThrow: boolean,
  ): TaskHandle | undefined {
    // The task context with `log` is made when the task starts (taskContext below), from `data`.
    // A definition and its payload take the same paths: the scheduler tells them apart.
    const run = fn as TaskFunction
    try {
      const handle =
        options !== undefined
          ? orThrow
            ? super.spawn(name as string, run, options)
            : super.trySpawn(name as string, run, options)
          : this.spawnTrusted(name as string, run, fields ?? this.#ownFields, orThrow)
      // On a durable backend the refusal may come later, as the rejection of `admitted`: it gets its 503 there.
      if (this.#durable && handle !== undefined) handle.admitted.catch(withHttpAnswer)
      return handle
    } catch (error) {
      // Only a refusal or a bad argument gets here: the cold path. A refusal gets its 503.
      throw orThrow ? withHttpAnswer(error) : error
    }
  }

  /** @internal Every task of this app gets a `log`: a child of the logger it was spawned with (its `data`). */
  protected override taskContext(task: TaskContext & TaskHandle): TaskContext {
    const logger = task.data as FastifyBaseLogger | undefined
    if (logger !== undefined) return new LoggingTaskContext(task, logger)
    // A task a durable backend handed over has no spawner here: it logs through the app's logger,
    // with the id of the request that spawned it elsewhere, if one did.
    const requestId = task.meta?.['requestId']
    return new LoggingTaskContext(task, requestId === undefined ? this.#log : this.#log.child({ reqId: requestId }))
  }
}

/** @internal What fastify-tasks adds to the scheduler's own checks of spawn options. */
export function checkSpawnOptions(options: unknown): asserts options is FastifySpawnOptions | undefined {
  if (options === undefined) return
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('spawn(options)', 'an object', options)
  if ('data' in options) {
    throw new InvalidOptionError(
      'spawn(options.data)',
      'no value: fastify-tasks uses it for the task logger',
      (options as SpawnOptions).data,
    )
  }
}
