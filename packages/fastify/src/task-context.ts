import type { TaskContext } from '@fastify-tasks/core'
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

  get log(): FastifyBaseLogger {
    return (this.#log ??= this.#parent.child({ taskId: this.#inner.id, task: this.#inner.name }))
  }
}
