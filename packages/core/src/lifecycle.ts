import type { AdmissionError, AbortReason } from './errors.js'
import type { Priority } from './priority.js'
import type { Settlement, TaskHandle } from './task.js'

/** A spawn that was refused. */
export interface RejectedSpawn {
  readonly name: string
  readonly priority: Priority
  readonly labels: Readonly<Record<string, string>> | undefined
  /** The `meta` given to the refused spawn. */
  readonly meta: Readonly<Record<string, string | number | boolean>> | undefined
  /** The `data` given to the refused spawn (opaque, for your own listeners). */
  readonly data: unknown
  readonly error: AdmissionError
  /** `true` when `spawn` throws the error to its caller; `false` for `trySpawn`, which returns `undefined`. */
  readonly thrown: boolean
}

/**
 * What the layers above (metrics, logs) subscribe to: one optional method per lifecycle event. All are
 * synchronous; a listener that throws is reported through `onListenerError` and never breaks the
 * scheduler.
 * Listeners receive the live handle: read what you need during the call, do not keep it.
 */
export interface LifecycleListener {
  /** The task was admitted. It is still `pending`; it starts right after if a slot is free. */
  spawned?(task: TaskHandle): void
  /** `spawn` refused a task; the error is thrown to the caller right after. */
  rejected?(spawn: RejectedSpawn): void
  /** The task got a slot and its function is about to run. `queueWaitMs` is the time it waited. */
  started?(task: TaskHandle, queueWaitMs: number): void
  /** The task called `progress()`. Only emitted when some listener has this hook. */
  progress?(task: TaskHandle): void
  /** The task's signal was aborted (it is now `aborting`), or it was cancelled while waiting. */
  aborted?(task: TaskHandle, reason: AbortReason): void
  /** An aborted task did not settle within `abortGrace`. */
  leaked?(task: TaskHandle): void
  /**
   * An aborted task was proven hung: the garbage collector collected its function's promise, so
   * nothing can ever settle it (see `TaskHandle.hung`). Comes with a garbage collection, after `leaked` or before.
   */
  hung?(task: TaskHandle): void
  /**
   * An attempt of a named task with `retries` failed with `error`: the task is `pending` again (its
   * `attempt` already the next one) and starts after `delayMs`. It settles only after its last attempt.
   */
  retrying?(task: TaskHandle, error: unknown, delayMs: number): void
  /** The task reached its terminal state. `durationMs` is its running time, `null` if it never ran. */
  settled?(task: TaskHandle, settlement: Settlement, durationMs: number | null): void
  /**
   * The function of a task released without settling (`task.release` is set) settled after all. It
   * changes nothing (the task keeps its terminal state); it is counted as late.
   */
  late?(task: TaskHandle): void
}

/** The name of a lifecycle hook, as passed to `onListenerError`. */
export type LifecycleEvent = keyof LifecycleListener

type EventArgs = {
  [E in LifecycleEvent]-?: Parameters<NonNullable<LifecycleListener[E]>>
}

/**
 * Subscribed listeners, indexed by event, so that an event nobody listens to costs one length check
 * and an event costs no argument array. Arrays are replaced, never mutated, so a listener that
 * unsubscribes during an event does not disturb the loop delivering it.
 */
export class ListenerSet {
  spawned: LifecycleListener[] = []
  rejected: LifecycleListener[] = []
  started: LifecycleListener[] = []
  progress: LifecycleListener[] = []
  aborted: LifecycleListener[] = []
  leaked: LifecycleListener[] = []
  hung: LifecycleListener[] = []
  retrying: LifecycleListener[] = []
  settled: LifecycleListener[] = []
  late: LifecycleListener[] = []
  readonly #onError: (error: unknown, event: LifecycleEvent) => void

  constructor(onError: (error: unknown, event: LifecycleEvent) => void) {
    this.#onError = onError
  }

  add(listener: LifecycleListener): void {
    for (const event of EVENTS) if (typeof listener[event] === 'function') this[event] = [...this[event], listener]
  }

  remove(listener: LifecycleListener): void {
    for (const event of EVENTS) if (this[event].includes(listener)) this[event] = this[event].filter((l) => l !== listener)
  }

  emit1<E extends LifecycleEvent>(event: E, a: EventArgs[E][0]): void {
    for (const listener of this[event]) {
      try {
        ;(listener[event] as (a: unknown) => void).call(listener, a)
      } catch (error) {
        this.#onError(error, event)
      }
    }
  }

  emit2<E extends LifecycleEvent>(event: E, a: EventArgs[E][0], b: EventArgs[E][1]): void {
    for (const listener of this[event]) {
      try {
        ;(listener[event] as (a: unknown, b: unknown) => void).call(listener, a, b)
      } catch (error) {
        this.#onError(error, event)
      }
    }
  }

  emit3<E extends LifecycleEvent>(event: E, a: EventArgs[E][0], b: EventArgs[E][1], c: EventArgs[E][2]): void {
    for (const listener of this[event]) {
      try {
        ;(listener[event] as (a: unknown, b: unknown, c: unknown) => void).call(listener, a, b, c)
      } catch (error) {
        this.#onError(error, event)
      }
    }
  }
}

const EVENTS: readonly LifecycleEvent[] = [
  'spawned',
  'rejected',
  'started',
  'progress',
  'aborted',
  'leaked',
  'hung',
  'retrying',
  'settled',
  'late',
]
