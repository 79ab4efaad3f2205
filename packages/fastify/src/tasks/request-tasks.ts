import type { AnyTaskDefinition, TaskHandle } from '@fastify-tasks/core'
import type { FastifyRequest } from 'fastify'
import type { FastifyTaskDefinition, FastifyTaskFunction } from './task-context.js'
import { checkSpawnOptions, type FastifySpawnOptions, type AppTasks } from './app-tasks.js'

/** Labels shared by every task of one route, made once per route. */
export type RouteLabels = Readonly<{ method: string; route: string }>

/** Route labels cached per method and route template (bounded by the app's route table). */
export class RouteLabelCache {
  // By route, then method: no key string is built per spawn (a route's string and Node's method
  // strings are the same objects request after request, so their hashes are cached too).
  readonly #byRoute = new Map<string, Map<string, RouteLabels>>()

  get(method: string, route: string): RouteLabels {
    let byMethod = this.#byRoute.get(route)
    if (byMethod === undefined) {
      byMethod = new Map()
      this.#byRoute.set(route, byMethod)
    }
    let labels = byMethod.get(method)
    if (labels === undefined) {
      labels = Object.freeze({ method, route })
      byMethod.set(method, labels)
    }
    return labels
  }
}

export const UNMATCHED_ROUTE = '(unmatched)'

/**
 * `request.tasks`: spawns tasks on behalf of one request. A new one is made on each access of
 * `request.tasks` (cheap; never shared between requests).
 *
 * A task spawned here records the request id, method and route template (`meta.requestId`, labels
 * `method` and `route`, which group it in `/debug/tasks`), runs in the request's async context, and
 * logs through a child of `request.log`. It outlives the response: a client disconnect does not
 * cancel it.
 */
export class RequestTasks {
  readonly #scheduler: AppTasks
  readonly #request: FastifyRequest
  readonly #labels: RouteLabelCache

  /** @internal made by the `request.tasks` getter */
  constructor(scheduler: AppTasks, request: FastifyRequest, labels: RouteLabelCache) {
    this.#scheduler = scheduler
    this.#request = request
    this.#labels = labels
  }

  /**
   * Spawns a background task for this request. Throws an `AdmissionError` (`QueueFullError`,
   * `OverloadedError` or `ClosingError`) when the task is refused, carrying `statusCode` 503 and
   * `headers` with `Retry-After` (the `retryAfter` option rounded up), so that if it escapes the
   * handler Fastify answers `503` with `Retry-After`. For work the response does not depend on,
   * prefer {@link RequestTasks.trySpawn}: a refusal then never fails the request.
   */
  spawn<P, R>(definition: FastifyTaskDefinition<P, R>, payload: NoInfer<P>, options?: FastifySpawnOptions): TaskHandle<R>
  spawn<T>(name: string, fn: FastifyTaskFunction<T>, options?: FastifySpawnOptions): TaskHandle<T>
  spawn(name: string | AnyTaskDefinition, fn: unknown, options?: FastifySpawnOptions): TaskHandle {
    return this.#spawn(name, fn, options, true)!
  }

  /**
   * Best-effort spawning: like {@link RequestTasks.spawn}, but a refused task (queue full,
   * overloaded, closing) returns `undefined` and the request goes on. The refusal is counted in
   * `fastify_tasks_rejected_total{task,reason}` and logged through `request.log` at most once per
   * `logInterval` per task name and reason. Bad arguments still throw: they are bugs, not load.
   *
   * ```ts
   * request.tasks.trySpawn('touch-last-seen', () => db.touch(user.id), { timeout: 2_000, priority: 'low' })
   * ```
   */
  trySpawn<P, R>(definition: FastifyTaskDefinition<P, R>, payload: NoInfer<P>, options?: FastifySpawnOptions): TaskHandle<R> | undefined
  trySpawn<T>(name: string, fn: FastifyTaskFunction<T>, options?: FastifySpawnOptions): TaskHandle<T> | undefined
  trySpawn(name: string | AnyTaskDefinition, fn: unknown, options?: FastifySpawnOptions): TaskHandle | undefined {
    return this.#spawn(name, fn, options, false)
  }

  /** `name` and `fn` are a name and a function, or a definition and its payload: the scheduler tells them apart. */
  #spawn(
    name: string | AnyTaskDefinition,
    fn: unknown,
    options: FastifySpawnOptions | undefined,
    orThrow: boolean,
  ): TaskHandle | undefined {
    const request = this.#request
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE
    const routeLabels = this.#labels.get(request.method, route)
    const meta = { requestId: request.id, method: request.method, route }
    const log = request.log
    if (options === undefined) {
      // The common case: labels and meta built here, nothing for the scheduler to check again.
      return this.#scheduler.spawnWithLog(name, fn, undefined, { labels: routeLabels, meta, data: log }, orThrow)
    }
    checkSpawnOptions(options)
    return this.#scheduler.spawnWithLog(
      name,
      fn,
      {
        ...options,
        labels: options.labels === undefined ? routeLabels : { ...routeLabels, ...options.labels },
        meta: options.meta === undefined ? meta : { ...meta, ...options.meta },
        data: log,
      },
      undefined,
      orThrow,
    )
  }
}
