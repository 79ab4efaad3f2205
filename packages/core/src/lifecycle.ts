import type { AdmissionError, AbortReason } from './errors.js'
import type { Priority } from './priority.js'
import type { Settlement, TaskHandle } from './task.js'

/** A spawn that was refused. */
export interface RejectedSpawn {
  readonly name: string
  readonly priority: Priority
  readonly labels: Readonly<Record<string, string>> | undefined
  readonly error: AdmissionError
}

/**
 * Lifecycle hooks the layers above (metrics, logs) subscribe to. All are optional and synchronous;
 * a listener that throws is reported through `onListenerError` and never breaks the scheduler.
 * Listeners receive the live handle: read what you need during the call, do not keep it.
 */
export interface LifecycleListener {
  /** The task was admitted (it is `pending` or already `running`). */
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
  /** The task reached its terminal state. `durationMs` is its running time (0 if it never ran). */
  settled?(task: TaskHandle, settlement: Settlement, durationMs: number): void
}

/** The name of a lifecycle hook, as passed to `onListenerError`. */
export type LifecycleEvent = keyof LifecycleListener
