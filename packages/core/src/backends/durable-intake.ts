import { randomUUID } from 'node:crypto'
import { BackendUnavailableError, describeValue } from '../errors.js'
import type { RegisteredTask } from '../definitions/task-registry.js'
import type { ResolvedSpawnOptions } from '../options.js'
import { RemoteTask } from './remote-task.js'
import type { TaskBackend } from './task-backend.js'

/**
 * The spawn side of a durable backend: encodes a named task's payload (a bad one throws at the call
 * site), hands the task to the backend and follows its acknowledgement. Counts what is on its way
 * (`admitting`) and what the broker took (`enqueued`).
 */
export class DurableIntake {
  readonly backend: TaskBackend
  admitting = 0
  enqueued = 0
  readonly #inFlight = new Set<Promise<void>>()
  readonly #onUnavailable: (error: BackendUnavailableError, options: ResolvedSpawnOptions) => void

  constructor(backend: TaskBackend, onUnavailable: (error: BackendUnavailableError, options: ResolvedSpawnOptions) => void) {
    this.backend = backend
    this.#onUnavailable = onUnavailable
  }

  /** Persists one spawn of `entry`; the handle's `admitted` says whether the broker took it. */
  enqueue(entry: RegisteredTask, payload: unknown, o: ResolvedSpawnOptions, timeout: number, retryAfter: number): RemoteTask {
    const { definition, codec } = entry
    const name = definition.name
    const json = codec.encode(payload)
    const id = randomUUID()
    let acknowledged: Promise<string | undefined | void>
    try {
      acknowledged = Promise.resolve(
        this.backend.enqueue({
          id,
          name,
          payload: json,
          priority: o.priority,
          timeout,
          attempts: definition.retries + 1,
          delay: o.delay ?? 0,
          key: o.key,
          onDuplicate: o.onDuplicate,
          labels: o.labels,
          meta: o.meta,
        }),
      )
    } catch (error) {
      acknowledged = Promise.reject(error instanceof Error ? error : new Error(`the backend threw ${describeValue(error)}`))
    }
    this.admitting++
    const admitted: Promise<void> = acknowledged.then(
      (held) => {
        this.admitting--
        this.enqueued++
        this.#inFlight.delete(admitted)
        // Joined the live task of its key: the handle is that task's.
        if (typeof held === 'string' && held !== id) handle.joined(held)
      },
      (cause: unknown) => {
        this.admitting--
        this.#inFlight.delete(admitted)
        handle.notAdmitted()
        const error = new BackendUnavailableError(name, this.backend.kind, retryAfter, cause)
        this.#onUnavailable(error, o)
        throw error
      },
    )
    // Handled here: a caller who never awaits `admitted` must not get an unhandledRejection.
    admitted.catch(ignore)
    this.#inFlight.add(admitted)
    const handle = new RemoteTask(this.backend, id, name, o.priority, timeout, o, admitted)
    return handle
  }

  /** Resolves when every admission on its way is settled (acknowledged or refused). */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight])
  }
}

function ignore(): void {}
