import type { Priority } from '../priority.js'
import { isTerminal, type CancelReason, type Settlement, type TaskHandle, type TaskState } from '../task.js'
import type { TaskBackend } from './task-backend.js'

const NOT_ADMITTED: Settlement = { outcome: 'dropped', reason: 'unavailable' }

/**
 * The handle `spawn` returns on a durable backend: the task lives in the broker and may run in
 * another process. `state` is what this process knows of it: `pending` until `settled` (which
 * follows the task, at the cost of a subscription, only once someone reads it) says how it ended.
 */
export class RemoteTask<T = unknown> implements TaskHandle<T> {
  #id: string
  readonly name: string
  readonly priority: Priority
  readonly timeout: number
  readonly labels: Readonly<Record<string, string>> | undefined
  readonly meta: Readonly<Record<string, string | number | boolean>> | undefined
  readonly data: unknown
  readonly admitted: Promise<void>
  /** Runs are counted by the process that runs them; this handle knows only the first. */
  readonly attempt = 1
  readonly abortReason = undefined
  readonly leaked = false
  readonly hung = false
  readonly release = undefined
  readonly site = undefined
  #state: TaskState = 'pending'
  #settled: Promise<Settlement<T>> | undefined
  #removal: { promise: Promise<Settlement>; resolve: (settlement: Settlement) => void } | undefined
  readonly #backend: TaskBackend

  constructor(
    backend: TaskBackend,
    id: string,
    name: string,
    priority: Priority,
    timeout: number,
    fields: Pick<TaskHandle, 'labels' | 'meta' | 'data'>,
    admitted: Promise<void>,
  ) {
    this.#backend = backend
    this.#id = id
    this.name = name
    this.priority = priority
    this.timeout = timeout
    this.labels = fields.labels
    this.meta = fields.meta
    this.data = fields.data
    this.admitted = admitted
  }

  /** The task's id in the broker. With a `key`, the id of the live task it joined, once admitted. */
  get id(): string {
    return this.#id
  }

  /** Joined the live task `id` of its key (called by the scheduler on admission). */
  joined(id: string): void {
    this.#id = id
  }

  get state(): TaskState {
    return this.#state
  }

  /** Marks a task whose admission failed (called by the scheduler). */
  notAdmitted(): void {
    this.#state = 'dropped'
  }

  get settled(): Promise<Settlement<T>> {
    this.#settled ??= this.admitted
      .then(
        () => Promise.race([this.#backend.watch(this.id, this.name), this.#removed().promise]),
        () => NOT_ADMITTED,
      )
      .then((settlement) => {
        this.#state = settlement.outcome
        return settlement as Settlement<T>
      })
    return this.#settled
  }

  /** Resolved when this handle's `cancel` removed the task before it ran (no event will say so). */
  #removed(): { promise: Promise<Settlement>; resolve: (settlement: Settlement) => void } {
    if (this.#removal === undefined) {
      let resolve!: (settlement: Settlement) => void
      const promise = new Promise<Settlement>((r) => (resolve = r))
      this.#removal = { promise, resolve }
    }
    return this.#removal
  }

  /**
   * Asks the backend to cancel the task wherever it is (after its admission). Returns `false` when
   * this process already knows it ended, `true` otherwise: the request is on its way, and `settled`
   * tells how the task ended.
   */
  readonly cancel = (reason: CancelReason = 'caller'): boolean => {
    if (isTerminal(this.#state)) return false
    void this.admitted.then(
      () =>
        this.#backend.cancel(this.id, reason).then(
          (done) => {
            if (done === 'cancelled') this.#removed().resolve({ outcome: 'cancelled', reason })
          },
          () => undefined,
        ),
      () => undefined,
    )
    return true
  }
}
