import type { AsyncResource } from 'node:async_hooks'
import { TaskAbortedError, type AbortReason } from './errors.js'
import { PRIORITIES, type Priority } from './priority.js'
import type { SiteRef } from './spawn-site.js'
import type { ListNode } from './task-list.js'
import type { NameLimit } from './limits/name-limit.js'

/** Live states. */
export type LiveState = 'pending' | 'running' | 'aborting'
/**
 * Terminal states. Every task reaches exactly one, exactly once: when its function settles, or, for a
 * task given up on (aborted) whose function never settles, when it is released from the given-up set
 * (see {@link TaskHandle.release}).
 */
export type Outcome = 'completed' | 'failed' | 'cancelled' | 'timed_out' | 'dropped'
/** Every state a task can be in. */
export type TaskState = LiveState | Outcome
/**
 * Why a task ended `dropped`: evicted by the overflow policy, never started before shutdown, or (on a
 * durable backend) never admitted: the broker did not acknowledge it (`handle.admitted` rejected).
 */
export type DropReason = 'overflow' | 'shutdown' | 'unavailable'
/**
 * Why a given-up task ended without its function settling: `evicted` to make room in the given-up
 * set (its name's cap or the total cap was reached), `expired` after `givenUpTtl`, `closed` by
 * `close()`.
 */
export type Release = 'evicted' | 'expired' | 'closed'
/** Reasons a caller may give to `cancel`. `timeout` belongs to the scheduler. */
export type CancelReason = Exclude<AbortReason, 'timeout'>

/** How a task ended. `settled` resolves to one of these and never rejects. */
export type Settlement<T = unknown> =
  | { readonly outcome: 'completed'; readonly value: T }
  | { readonly outcome: 'failed'; readonly error: unknown }
  | { readonly outcome: 'cancelled'; readonly reason: CancelReason; readonly error?: unknown }
  | { readonly outcome: 'timed_out'; readonly error?: unknown }
  | { readonly outcome: 'dropped'; readonly reason: DropReason }

/** What a task function receives. */
export interface TaskContext {
  readonly id: string
  readonly name: string
  /**
   * Aborted on timeout, cancellation or shutdown; `signal.reason` is a `TaskAbortedError` telling
   * which. Created on first access, so tasks that never read it do not pay for it.
   */
  readonly signal: AbortSignal
  /** Marks the task as alive: resets its `stuck` clock. Cheap; call it as often as you like. Safe to destructure. */
  readonly progress: () => void
  readonly labels: Readonly<Record<string, string>> | undefined
  readonly meta: Readonly<Record<string, string | number | boolean>> | undefined
  /**
   * Which run of the task this is, from 1. Always 1 in memory today; on a durable backend a task
   * may run again (a retry, or after a crash): with `id`, it makes an idempotency key.
   */
  readonly attempt: number
}

/** The function a task runs. It may return a value or a promise; either way it is tracked. */
export type TaskFunction<T = unknown, C extends TaskContext = TaskContext> = (context: C) => T | PromiseLike<T>

/** What `spawn` returns. Also what lifecycle listeners are given. */
export interface TaskHandle<T = unknown> {
  readonly id: string
  readonly name: string
  /** The current state; changes as the task moves on. */
  readonly state: TaskState
  readonly priority: Priority
  readonly labels: Readonly<Record<string, string>> | undefined
  readonly meta: Readonly<Record<string, string | number | boolean>> | undefined
  /** The deadline in ms from start (`Infinity` for none). */
  readonly timeout: number
  /** Which run of the task this is (or the next one, while it waits to be retried), from 1. */
  readonly attempt: number
  /** Why the task was aborted, if it was. */
  readonly abortReason: AbortReason | undefined
  /** Flagged once an abort went unanswered for `abortGrace`. */
  readonly leaked: boolean
  /**
   * Proven hung: the task was given up on (past its deadline, or cancelled) and the garbage collector
   * then collected the promise its function returned, so nothing can ever settle it (it awaits a
   * promise whose resolvers nothing holds: `await new Promise(() => {})`, a lost callback). Set with
   * a garbage collection; a task waiting on something still alive (a client that never answers)
   * stays `leaked` and never becomes `hung`.
   */
  readonly hung: boolean
  /**
   * Set when the task ended without its function settling: `evicted` from the given-up set to make
   * room (its name's `maxGivenUpPerName`, or `maxGivenUp`, was reached), `expired` after
   * `givenUpTtl`, or `closed` by `close()`. `undefined` for a task whose function settled or never ran.
   */
  readonly release: Release | undefined
  /** The `data` given to `spawn`: an opaque value for your own listeners. */
  readonly data: unknown
  /** `file:line` of the code that called `spawn`, formatted on first read; `undefined` when off. */
  readonly site: string | undefined
  /** Resolves when the task reaches its terminal state. Never rejects. */
  readonly settled: Promise<Settlement<T>>
  /**
   * Resolves once the task is admitted for good: at once in memory (`spawn` returned, so it was); on
   * a durable backend once the broker acknowledged it, from when it runs at least once. Await it
   * before answering when the caller must know the task is persisted. Rejects with
   * `BackendUnavailableError` (an `AdmissionError`: HTTP 503 and `retryAfter`) when it was not; that
   * rejection is handled, so not awaiting it never causes an `unhandledRejection`.
   */
  readonly admitted: Promise<void>
  /**
   * Asks the task to stop. A waiting task ends `cancelled` at once; a running one moves to `aborting`
   * and its signal aborts. Returns `false` if the task had already been aborted or ended. `reason`
   * says who cancels (default `'caller'`). Safe to destructure.
   */
  readonly cancel: (reason?: CancelReason) => boolean
}

/**
 * What a task needs from the scheduler that owns it. Its members are internal, like their
 * implementations on `Scheduler`: they are left out of the published declarations (`stripInternal`),
 * where the interface is empty and `Scheduler implements TaskOwner` still holds.
 */
export interface TaskOwner {
  /** @internal */
  cancelTask(task: TaskRecord, reason: CancelReason): boolean
  /** @internal */
  progressTask(task: TaskRecord): void
  /** @internal */
  siteOf(site: SiteRef): string | undefined
}

/** What a task keeps of its spawn options (the scheduler passes its resolved options whole). */
export interface SpawnFields {
  readonly labels: Readonly<Record<string, string>> | undefined
  readonly meta: Readonly<Record<string, string | number | boolean>> | undefined
  readonly key: string | undefined
  readonly data: unknown
}

/**
 * The one object per task: handle, context and bookkeeping. Internal; users see it through the
 * {@link TaskHandle} and {@link TaskContext} interfaces.
 */
export class TaskRecord implements TaskHandle, TaskContext, ListNode {
  readonly seq: number
  readonly name: string
  /** Index into PRIORITIES. */
  readonly rank: number
  readonly timeout: number
  /** Its validated spawn options, kept whole (often the shared defaults): `labels`, `meta`, `key` and `data` read from it. */
  readonly #options: SpawnFields
  readonly siteRef: SiteRef | undefined
  readonly spawnedAt: number
  readonly owner: TaskOwner
  /** Its name's entry: slots held, waiting tasks and limit. */
  readonly limits: NameLimit<TaskRecord>

  state: TaskState = 'pending'
  fn: TaskFunction | undefined
  /** Carries the spawn-time async context; set only for tasks that had to wait for a slot. */
  restore: AsyncResource | undefined = undefined
  /**
   * The promise its function returned, while it runs. Once the task is given up it is no longer held
   * here, only watched weakly: its collection proves the task hung.
   */
  promise: object | undefined = undefined
  // Times are doubles from the start (NaN = not yet): a field that starts as a small integer and
  // later holds a fractional time changes its representation, deprecating the object's map.
  startedAt = NaN
  value: unknown = undefined
  error: unknown = undefined
  /** What only some tasks need; made on the first write to one of its fields (see TaskExtras). */
  #extras: TaskExtras | undefined = undefined
  /** Made when someone asks for `settled`. */
  waiter: { readonly promise: Promise<Settlement>; resolve: ((settlement: Settlement) => void) | undefined } | undefined = undefined

  // Queue links, while pending.
  prev: ListNode | undefined = undefined
  next: ListNode | undefined = undefined
  /** Index in the running set while holding a slot, else -1. */
  slot = -1
  /** Index in the delayed set while waiting for its time, else -1. */
  heapIndex = -1

  /** Its deadline while running (`Infinity` for none or once it stops running). */
  deadline = Infinity

  constructor(
    owner: TaskOwner,
    seq: number,
    name: string,
    fn: TaskFunction,
    rank: number,
    timeout: number,
    options: SpawnFields,
    siteRef: SiteRef | undefined,
    now: number,
    limits: NameLimit<TaskRecord>,
  ) {
    this.owner = owner
    this.seq = seq
    this.name = name
    this.fn = fn
    this.rank = rank
    this.timeout = timeout
    this.#options = options
    this.siteRef = siteRef
    this.spawnedAt = now
    this.limits = limits
  }

  get labels(): Readonly<Record<string, string>> | undefined {
    return this.#options.labels
  }

  get meta(): Readonly<Record<string, string | number | boolean>> | undefined {
    return this.#options.meta
  }

  get key(): string | undefined {
    return this.#options.key
  }

  get data(): unknown {
    return this.#options.data
  }

  #more(): TaskExtras {
    return (this.#extras ??= new TaskExtras())
  }

  /** When it last reported progress: its start until it does; NaN before it starts. */
  get lastProgressAt(): number {
    const at = this.#extras?.lastProgressAt
    return at === undefined || Number.isNaN(at) ? this.startedAt : at
  }
  set lastProgressAt(at: number) {
    this.#more().lastProgressAt = at
  }

  /** Why it was aborted (state pending→cancelled, running→aborting) or dropped. */
  get reason(): AbortReason | DropReason | undefined {
    return this.#extras?.reason
  }
  set reason(reason: AbortReason | DropReason | undefined) {
    this.#more().reason = reason
  }

  get leaked(): boolean {
    return this.#extras?.leaked === true
  }
  set leaked(leaked: boolean) {
    this.#more().leaked = leaked
  }

  get hung(): boolean {
    return this.#extras?.hung === true
  }
  set hung(hung: boolean) {
    this.#more().hung = hung
  }

  /** Set by close() when the drain gave up on this task. */
  get abandoned(): boolean {
    return this.#extras?.abandoned === true
  }
  set abandoned(abandoned: boolean) {
    this.#more().abandoned = abandoned
  }

  /** When it was aborted (given up on); NaN before. */
  get abortedAt(): number {
    return this.#extras?.abortedAt ?? NaN
  }
  set abortedAt(at: number) {
    this.#more().abortedAt = at
  }

  /** Why it ended without its function settling, if it did. */
  get release(): Release | undefined {
    return this.#extras?.release
  }
  set release(release: Release | undefined) {
    this.#more().release = release
  }

  /** Its function settled after it was released (counted once). */
  get settledLate(): boolean {
    return this.#extras?.settledLate === true
  }
  set settledLate(late: boolean) {
    this.#more().settledLate = late
  }

  /** Made when someone reads `signal`. */
  get controller(): AbortController | undefined {
    return this.#extras?.controller
  }

  /** The id as a string, made on read (most tasks are never looked at); a durable backend's job id for the tasks it hands over. */
  get id(): string {
    return this.#extras?.externalId ?? String(this.seq)
  }

  /** The id a durable backend gave the task it handed over to run here; `undefined` for others. */
  get externalId(): string | undefined {
    return this.#extras?.externalId
  }
  set externalId(id: string | undefined) {
    this.#more().externalId = id
  }

  /** A task in memory was admitted when `spawn` returned it. */
  get admitted(): Promise<void> {
    return ADMITTED
  }

  get priority(): Priority {
    return PRIORITIES[this.rank]!
  }

  get abortReason(): AbortReason | undefined {
    return this.state === 'dropped' ? undefined : (this.reason as AbortReason | undefined)
  }

  get signal(): AbortSignal {
    const extras = this.#more()
    if (extras.controller === undefined) {
      extras.controller = new AbortController()
      const reason = this.abortReason
      if (reason !== undefined) extras.controller.abort(new TaskAbortedError(this.name, reason))
    }
    return extras.controller.signal
  }

  get site(): string | undefined {
    return this.siteRef === undefined ? undefined : this.owner.siteOf(this.siteRef)
  }

  get settled(): Promise<Settlement> {
    if (this.waiter === undefined) {
      if (isTerminal(this.state)) {
        this.waiter = { promise: Promise.resolve(this.settlement()), resolve: undefined }
      } else {
        const promise = new Promise<Settlement>(captureResolve)
        this.waiter = { promise, resolve: takeCaptured() }
      }
    }
    return this.waiter.promise
  }

  /**
   * When it may start: its spawn, or later when spawned with a `delay` or waiting to be retried.
   * Queue waits count from here. Kept with the extras: a second time field on every task would be
   * one more heap number allocated per spawn.
   */
  get readyAt(): number {
    return this.#extras?.readyAt ?? this.spawnedAt
  }
  set readyAt(at: number) {
    this.#more().readyAt = at
  }

  /** Which run this is, from 1: a named task with `retries` runs again after a failure. */
  get attempt(): number {
    return this.#extras?.attempt ?? 1
  }
  set attempt(attempt: number) {
    this.#more().attempt = attempt
  }

  /** A named task that may be retried: what to run again, and how. */
  get retry(): RetryPlan | undefined {
    return this.#extras?.retry
  }
  set retry(plan: RetryPlan | undefined) {
    this.#more().retry = plan
  }

  /** Bound on first read, so `({ progress }) => …` works; tasks that never read it pay nothing. */
  get progress(): () => void {
    const extras = this.#more()
    return (extras.progress ??= () => this.owner.progressTask(this))
  }

  /** Bound on first read, like `progress`. */
  get cancel(): (reason?: CancelReason) => boolean {
    const extras = this.#more()
    return (extras.cancel ??= (reason: CancelReason = 'caller') => this.owner.cancelTask(this, reason))
  }

  /** The settlement of a terminated task. */
  settlement(): Settlement {
    switch (this.state) {
      case 'completed':
        return { outcome: 'completed', value: this.value }
      case 'failed':
        return { outcome: 'failed', error: this.error }
      case 'timed_out':
        return this.error === undefined ? { outcome: 'timed_out' } : { outcome: 'timed_out', error: this.error }
      case 'cancelled': {
        const reason = (this.abortReason ?? 'caller') as CancelReason
        return this.error === undefined ? { outcome: 'cancelled', reason } : { outcome: 'cancelled', reason, error: this.error }
      }
      case 'dropped':
        return { outcome: 'dropped', reason: (this.reason ?? 'overflow') as DropReason }
      default:
        throw new Error(`task ${this.id} has not settled (state ${this.state})`)
    }
  }
}

export function isTerminal(state: TaskState): state is Outcome {
  return state !== 'pending' && state !== 'running' && state !== 'aborting'
}

/** The resolve function of the promise `captureResolve` was last the executor of (see `settled`). */
let captured: ((settlement: Settlement) => void) | undefined

/**
 * One executor for every `settled` promise: it leaves the resolve function where `takeCaptured` picks
 * it up right after the `Promise` constructor returns. No closure (and no context) per promise.
 */
function captureResolve(resolve: (settlement: Settlement) => void): void {
  captured = resolve
}

function takeCaptured(): (settlement: Settlement) => void {
  const resolve = captured!
  captured = undefined
  return resolve
}

/**
 * The fields of a task that most tasks never set: abort and release bookkeeping, progress, the abort
 * controller and the bound `progress`/`cancel`. Kept apart so that the common task (spawned, run,
 * settled) allocates less: fewer slots in the record, and two fewer boxed doubles.
 */
class TaskExtras {
  lastProgressAt = NaN
  abortedAt = NaN
  reason: AbortReason | DropReason | undefined = undefined
  leaked = false
  hung = false
  abandoned = false
  release: Release | undefined = undefined
  settledLate = false
  controller: AbortController | undefined = undefined
  progress: (() => void) | undefined = undefined
  cancel: ((reason?: CancelReason) => boolean) | undefined = undefined
  attempt = 1
  retry: RetryPlan | undefined = undefined
  readyAt: number | undefined = undefined
  externalId: string | undefined = undefined
}

const ADMITTED: Promise<void> = Promise.resolve()

/** How a named task with `retries` runs again after a failed attempt. */
export interface RetryPlan {
  /** The task's function, made again for each attempt (the payload's JSON is kept in it). */
  readonly fn: TaskFunction
  /** Attempts after the first. */
  readonly retries: number
  /** The wait before the attempt after the given failed one. */
  delayAfter(failed: number): number
  /** Whether an error may be retried (errors the payload or result caused, never). */
  retryable(error: unknown): boolean
}
