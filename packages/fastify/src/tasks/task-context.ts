import { defineTask as defineCoreTask, type TaskContext, type TaskDefinition, type TaskSpec } from '@fastify-tasks/core'
import type { FastifyBaseLogger } from 'fastify'

/** What a task function receives from fastify-tasks: the scheduler's context plus a logger. */
export interface FastifyTaskContext extends TaskContext {
  /**
   * A child of `request.log` (of `app.log` outside requests) bound to `taskId` and `task`, so every
   * line carries the request id too. Made on first use.
   */
  readonly log: FastifyBaseLogger
}

/** The function a task runs. It may return a value or a promise; either way it is tracked. */
export type FastifyTaskFunction<T = unknown> = (context: FastifyTaskContext) => T | PromiseLike<T>

/** A named task of fastify-tasks: its `run` gets a {@link FastifyTaskContext} (with `log`). */
export type FastifyTaskDefinition<P = unknown, R = unknown> = TaskDefinition<P, R, FastifyTaskContext>

/**
 * Defines a named task (see the core's `defineTask`): a name, a `run(payload, context)` function and
 * its defaults, where `context` has the task's `log` too. Register it in the plugin's `tasks` option,
 * then spawn it with `request.tasks.spawn(definition, payload)` or `app.tasks.spawn(definition, payload)`,
 * typed by the definition. Payload and result are JSON, the payload checked against `payload` (a JSON
 * schema, or a TypeBox one, which types it too) at spawn.
 *
 * ```ts
 * export const sendConfirmation = defineTask('send-confirmation', {
 *   payload: Type.Object({ orderId: Type.String() }),
 *   timeout: 5_000,
 *   run: async ({ orderId }, { signal, log }) => { await mailer.send(orderId, { signal }); log.info('sent') },
 * })
 * ```
 */
export const defineTask: <P = unknown, R = unknown>(
  name: string,
  spec: TaskSpec<P, R, FastifyTaskContext>,
) => FastifyTaskDefinition<P, Awaited<R>> = defineCoreTask

/** The child loggers made so far, by task (the scheduler's context object is the task's handle). */
const childLoggers = new WeakMap<object, FastifyBaseLogger>()

/** What a line logged by a task after its task was released carries. */
const LATE = Object.freeze({ late: true })

/**
 * Tags every later line of a task released without settling (given up, then evicted, expired or
 * ended by the close) with `late: true`: the report that ended it is already written, and a reader
 * of the log must not take these lines for part of it.
 */
export function markLate(task: object): void {
  const log = childLoggers.get(task) as (FastifyBaseLogger & { setBindings?: (bindings: object) => void }) | undefined
  if (typeof log?.setBindings === 'function') log.setBindings(LATE)
}

/** A task's context with a lazily made child logger. */
export class LoggingTaskContext implements FastifyTaskContext {
  readonly #inner: TaskContext
  readonly #parent: FastifyBaseLogger
  #log: FastifyBaseLogger | undefined = undefined

  constructor(inner: TaskContext, parent: FastifyBaseLogger) {
    this.#inner = inner
    this.#parent = parent
  }

  get id(): string {
    return this.#inner.id
  }

  get name(): string {
    return this.#inner.name
  }

  get signal(): AbortSignal {
    return this.#inner.signal
  }

  get labels(): TaskContext['labels'] {
    return this.#inner.labels
  }

  get meta(): TaskContext['meta'] {
    return this.#inner.meta
  }

  get progress(): () => void {
    return this.#inner.progress
  }

  get attempt(): number {
    return this.#inner.attempt
  }

  get log(): FastifyBaseLogger {
    if (this.#log === undefined) {
      const inner = this.#inner as TaskContext & { readonly release?: unknown }
      const bindings = { taskId: inner.id, task: inner.name }
      this.#log = this.#parent.child(inner.release === undefined ? bindings : { ...bindings, ...LATE })
      childLoggers.set(inner, this.#log)
    }
    return this.#log
  }
}
