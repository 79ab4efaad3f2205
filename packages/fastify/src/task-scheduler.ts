import { InvalidOptionError, Scheduler, type SchedulerOptions, type SpawnOptions, type TaskHandle } from '@fastify-tasks/core'
import type { FastifyBaseLogger } from 'fastify'
import type { EventLoopMonitor } from './event-loop-monitor.js'
import { checkDrainTimeout } from './options.js'
import { LoggingTaskContext, type FastifyTaskFunction } from './task-context.js'

/** Options of `spawn` in fastify-tasks (`data` is the plugin's own: it carries the task's logger). */
export type FastifySpawnOptions = Omit<SpawnOptions, 'data'>

/**
 * `app.tasks`: the scheduler of one Fastify instance. Everything `Scheduler` offers (inspection,
 * cancellation, `subscribe`…), and a `spawn` whose task functions get a `log`.
 */
export class TaskScheduler extends Scheduler {
  readonly #log: FastifyBaseLogger
  #drainTimeout: number
  /** Event-loop delay and utilization per window, and the overload signal derived from them. */
  readonly eventLoop: EventLoopMonitor

  /** @internal made by the plugin */
  constructor(options: SchedulerOptions, log: FastifyBaseLogger, drainTimeout: number, eventLoop: EventLoopMonitor) {
    super(options)
    this.#log = log
    this.#drainTimeout = drainTimeout
    this.eventLoop = eventLoop
  }

  /**
   * Milliseconds the drain on close lets tasks finish before aborting the rest. Settable until the
   * app closes (the graceful entrypoint shortens it for SIGINT).
   */
  get drainTimeout(): number {
    return this.#drainTimeout
  }

  set drainTimeout(value: number) {
    this.#drainTimeout = checkDrainTimeout('drainTimeout', value)
  }

  /** Spawns a task outside any request. Its `log` is a child of `app.log`. */
  override spawn<T>(name: string, fn: FastifyTaskFunction<T>, options?: FastifySpawnOptions): TaskHandle<T> {
    return this.spawnWithLog(this.#log, name, fn, options)
  }

  /** @internal Spawns with `log` as the parent of the task's logger (used by `request.tasks`). */
  spawnWithLog<T>(log: FastifyBaseLogger, name: string, fn: FastifyTaskFunction<T>, options: FastifySpawnOptions | undefined): TaskHandle<T> {
    if (typeof fn !== 'function') throw new InvalidOptionError('spawn(fn)', 'a function', fn)
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      throw new InvalidOptionError('spawn(options)', 'an object', options)
    }
    if (options !== undefined && 'data' in options) {
      throw new InvalidOptionError('spawn(options.data)', 'no value: fastify-tasks uses it for the task logger', (options as SpawnOptions).data)
    }
    return super.spawn(name, (context) => fn(new LoggingTaskContext(context, log)), { ...options, data: log })
  }
}
