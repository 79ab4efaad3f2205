import { AsyncResource } from 'node:async_hooks'
import { systemClock, type Clock } from './clock.js'
import { DeadlineTimer } from './deadline-timer.js'
import { DelayedTasks } from './delayed-tasks.js'
import { RepeatSchedule, type Cadence, type RepeatHandle, type RepeatOptions, type ScheduleState } from './schedules/repeat-schedule.js'
import { checkRepeatOptions, checkScheduleId } from './schedules/repeat-options.js'
import type { AnyTaskDefinition, TaskDefinition } from './definitions/define-task.js'
import { TaskRegistry, type RegisteredTask } from './definitions/task-registry.js'
import { DurableIntake } from './backends/durable-intake.js'
import type { BackendCancel, BackendSchedule, IncomingTask, OutgoingSchedule, TaskBackend } from './backends/task-backend.js'
import {
  BackendUnavailableError,
  ClosingError,
  InvalidOptionError,
  NotDurableError,
  OverloadedError,
  QueueFullError,
  TaskAbortedError,
  UnknownTaskError,
  type AbortReason,
  type AdmissionError,
  type RejectReason,
} from './errors.js'
import { GivenUpSet } from './given-up-set.js'
import { HistoryRing, type HistoryEntry } from './history.js'
import {
  DEFAULT_LIST_LIMIT,
  type BackendSummary,
  type CloseReport,
  type ListQuery,
  type SchedulerSummary,
  type TaskGroup,
  type TaskPage,
} from './inspection.js'
import { closeReport, failedCloseReport } from './inspection/close-report.js'
import { groupLiveTasks } from './inspection/groups.js'
import { checkListQuery, listLiveTasks } from './inspection/list.js'
import type { SchedulerState } from './inspection/scheduler-state.js'
import { summarize } from './inspection/summary.js'
import { ListenerSet, type LifecycleEvent, type LifecycleListener } from './lifecycle.js'
import {
  resolveOptions,
  resolveSpawnOptions,
  type ResolvedOptions,
  type ResolvedSpawnOptions,
  type AdmissionCheck,
  type SchedulerOptions,
  type SpawnOptions,
  type TrustedSpawnFields,
} from './options.js'
import { checkBoolean, checkDuration, checkInteger, isTaskId } from './validation.js'
import { priorityRank } from './priority.js'
import { RunningSet } from './running-set.js'
import { SpawnSites, type CapturedFrom, type SiteRef } from './spawn-site.js'
import {
  TaskRecord,
  type CancelReason,
  type Outcome,
  type Release,
  type RetryPlan,
  type TaskContext,
  type TaskFunction,
  type TaskHandle,
  type TaskOwner,
} from './task.js'
import { TaskQueue } from './task-queue.js'
import { NameLimits } from './limits/name-limits.js'
import type { NameLimit } from './limits/name-limit.js'
import type { LimitContext } from './limits/adaptive-limit.js'
import { nameLimitState, type NameLimitState } from './limits/limit-state.js'

/** Options of {@link Scheduler.close}. */
export interface CloseOptions {
  /**
   * Milliseconds to let queued and running tasks finish before aborting the rest.
   * @default 10_000
   */
  timeout?: number
}

const IN_MEMORY: BackendSummary = Object.freeze({ kind: 'memory', connected: null, admitting: 0, enqueued: 0 })

/** The least time a durable backend is given to close its connections at the end of a drain, in ms. */
const BACKEND_CLOSE_MIN = 250

const DEFAULT_SPAWN: ResolvedSpawnOptions = Object.freeze({
  timeout: undefined,
  delay: undefined,
  priority: 'normal',
  key: undefined,
  onDuplicate: 'join',
  labels: undefined,
  meta: undefined,
  data: undefined,
})
const CANCEL_REASONS = new Set<string>(['caller', 'shutdown', 'superseded', 'operator'])
/** `handle.admitted` of what needs no broker. */
const ADMITTED: Promise<void> = Promise.resolve()
const DEFAULT_CLOSE_TIMEOUT = 10_000
/** Longest stretch of synchronous task starts before the scheduler yields to the event loop. */
const PUMP_SLICE_MS = 10

/**
 * Runs background tasks with bounded concurrency, a bounded queue, deadlines, cooperative abort and
 * inspection. Knows nothing of HTTP; the layers above plug in through `admission`, `clock` and
 * {@link Scheduler.subscribe}.
 *
 * ```ts
 * const tasks = new Scheduler({ concurrency: 16 })
 * const handle = tasks.spawn('send-mail', async ({ signal }) => mailer.send(msg, { signal }))
 * const { outcome } = await handle.settled
 * await tasks.close({ timeout: 5_000 })
 * ```
 */
export class Scheduler implements TaskOwner {
  readonly #options: ResolvedOptions
  readonly #clock: Clock
  readonly #queue: TaskQueue
  readonly #timer: DeadlineTimer
  /** Wakes for the earliest delayed task. It holds the process open: that task is work to do, not a watchdog. */
  readonly #delayTimer: DeadlineTimer
  readonly #sites: SpawnSites
  readonly #history: HistoryRing
  /** Tasks holding a slot: running. */
  readonly #running = new RunningSet()
  /** Pending tasks not yet allowed to start: spawned with a `delay`, or waiting to be retried. */
  readonly #delayed = new DelayedTasks<TaskRecord>()
  /** Per task name: slots held, waiting tasks, limit. */
  readonly #limits: NameLimits<TaskRecord>
  /** The entry of the last name spawned (until it is forgotten). */
  #lastLimits: NameLimit<TaskRecord> | undefined = undefined
  /** Tasks given up on (aborting) whose functions have not settled. Queue, running and these: every live task. */
  readonly #givenUp: GivenUpSet
  readonly #keys = new Map<string, TaskRecord>()
  /** Names whose rate limit holds their tasks back until `blockedUntil`: the delay timer wakes for them. */
  readonly #rateBlocked = new Set<NameLimit<TaskRecord>>()
  /** Repeating schedules, by id (`repeat()`). */
  readonly #schedules = new Map<string, RepeatSchedule>()
  /** On a durable backend: the schedules this process put in the broker, by id, each with its handle's token (a later `repeat` of the id replaces it). */
  readonly #durableSchedules = new Map<string, object>()
  /** Lifecycle listeners, by event (see `subscribe`). */
  readonly #listeners: ListenerSet
  #concurrency: number
  /** Flagged leaked and still in the given-up set. */
  #leakedLive = 0
  readonly #released: Record<Release, number> = { evicted: 0, expired: 0, closed: 0 }
  #late = 0
  /** While the drain waits for tasks to finish, a task given up on is ended at once, not waited for. */
  #releaseOnGiveUp = false
  /** Where the drain collects the tasks it gave up on. */
  #abandonedSink: TaskRecord[] | undefined = undefined
  /** Whether the drain's idle wait also waits for the given-up set to empty. */
  #idleIncludesGivenUp = false
  #seq = 0
  #pumping = false
  #pumpScheduled = false
  /** When this turn of the event loop started starting tasks; -1 outside a slice. */
  #sliceStart = -1
  #spawned = 0
  #deferred = 0
  #leakedTotal = 0
  /** Proven hung and still in the given-up set; and ever. */
  #hungLive = 0
  #hungTotal = 0
  /**
   * Watches the promises of given-up tasks, weakly: one collected means nothing could ever settle it
   * (its task is proven hung). Made on the first task given up with a promise.
   */
  #hangs: FinalizationRegistry<WeakRef<TaskRecord>> | undefined
  readonly #rejected: Record<RejectReason, number> = { queue_full: 0, overloaded: 0, closing: 0, unavailable: 0 }
  /** The spawn side of the durable backend, if there is one. */
  readonly #durable: DurableIntake | undefined
  /** The durable backend holds `limits.rate` across every process: this one only counts its starts. */
  readonly #ratesHeldByBackend: boolean
  /** Whether `pauseBackend(true)` holds the backend's hand-overs. */
  #backendPaused = false
  /** Terminated tasks, by outcome. */
  readonly #outcomes: Record<Outcome, number> = { completed: 0, failed: 0, cancelled: 0, timed_out: 0, dropped: 0 }
  #closing: Promise<CloseReport> | undefined
  #idle: (() => void) | undefined
  /** Callers of onIdle() waiting for nothing to be pending or running. */
  #idleWaiters: (() => void)[] = []

  constructor(options?: SchedulerOptions) {
    const resolved = resolveOptions(options)
    this.#options = resolved
    this.#clock = resolved.clock ?? systemClock
    this.#concurrency = resolved.concurrency
    this.#queue = new TaskQueue(resolved.agingInterval)
    this.#limits = new NameLimits<TaskRecord>(resolved.limits)
    this.#timer = new DeadlineTimer(this.#clock, (now) => this.#sweep(now))
    this.#delayTimer = new DeadlineTimer(this.#clock, (now) => this.#wake(now), true)
    this.#listeners = new ListenerSet((error, event) => this.#listenerFailed(error, event))
    this.#sites = new SpawnSites(resolved.spawnSite, resolved.siteIgnore)
    this.#history = new HistoryRing(resolved.historySize)
    this.#givenUp = new GivenUpSet(resolved.maxGivenUpPerName, resolved.maxGivenUp)
    const backend = resolved.backend
    this.#ratesHeldByBackend = backend?.holdsRateLimits === true
    if (backend !== undefined) {
      this.#durable = new DurableIntake(backend, (error, o) => this.#unavailable(error, o))
      const tasks = resolved.tasks
      backend.attach({
        run: (task) => this.#runIncoming(task),
        retryDelay: (name, failed) => tasks.retryDelay(name, failed),
        knows: (name) => tasks.named(name) !== undefined,
        rateLimit: (name) => resolved.limits.rate.get(name),
      })
    }
  }

  /**
   * Starts `fn` as a tracked task, now if a slot is free, otherwise when one frees up.
   *
   * Throws at once, and only then: `InvalidOptionError` for bad arguments, or an `AdmissionError`
   * (`QueueFullError`, `OverloadedError`, `ClosingError`; HTTP 503) when the task is refused. Whatever
   * `fn` does afterwards (throw, reject, hang, return a plain value) ends up in the task's terminal
   * state, never in an `unhandledRejection`.
   */
  spawn<P, R>(definition: TaskDefinition<P, R>, payload: NoInfer<P>, options?: SpawnOptions): TaskHandle<R>
  spawn<T>(name: string, fn: TaskFunction<T>, options?: SpawnOptions): TaskHandle<T>
  spawn(name: string | AnyTaskDefinition, fn: unknown, options?: SpawnOptions): TaskHandle {
    return this.#spawn(name, fn, options, true, SPAWN)!
  }

  /**
   * Best-effort spawning: like {@link Scheduler.spawn}, but a refused task (queue full, overloaded,
   * closing) returns `undefined` instead of throwing. The refusal is still counted and reported to
   * `rejected` listeners (whose error carries no stack: nobody throws it). Bad arguments still throw
   * `InvalidOptionError`: they are bugs, not load.
   */
  trySpawn<P, R>(definition: TaskDefinition<P, R>, payload: NoInfer<P>, options?: SpawnOptions): TaskHandle<R> | undefined
  trySpawn<T>(name: string, fn: TaskFunction<T>, options?: SpawnOptions): TaskHandle<T> | undefined
  trySpawn(name: string | AnyTaskDefinition, fn: unknown, options?: SpawnOptions): TaskHandle | undefined {
    return this.#spawn(name, fn, options, false, TRY_SPAWN)
  }

  /**
   * For subclasses that build a task's `labels`, `meta` and `data` themselves: spawns like `spawn`
   * (`orThrow` true) or `trySpawn` (false) with the default priority and timeout and no key, without
   * checking `fields` again. The caller vouches for them: `labels` strings only, `meta` strings,
   * numbers and booleans only, neither changed afterwards. `name` and `fn` are still checked.
   */
  protected spawnTrusted(
    definition: AnyTaskDefinition,
    payload: unknown,
    fields: TrustedSpawnFields,
    orThrow: boolean,
  ): TaskHandle | undefined
  protected spawnTrusted(name: string, fn: TaskFunction, fields: TrustedSpawnFields, orThrow: boolean): TaskHandle | undefined
  protected spawnTrusted(
    name: string | AnyTaskDefinition,
    fn: unknown,
    fields: TrustedSpawnFields,
    orThrow: boolean,
  ): TaskHandle | undefined {
    // The same shape as resolveSpawnOptions' result, written out (a spread of the defaults is slower).
    const o: ResolvedSpawnOptions = {
      timeout: undefined,
      delay: undefined,
      priority: 'normal',
      key: undefined,
      onDuplicate: 'join',
      labels: fields.labels,
      meta: fields.meta,
      data: fields.data,
    }
    return this.#spawn(name, fn, undefined, orThrow, SPAWN_TRUSTED, o)
  }

  /**
   * What a task's function receives. The scheduler's own is the task itself; a subclass may give its
   * tasks a richer context built around it (made once, when the task starts).
   */
  protected taskContext(task: TaskContext & TaskHandle): TaskContext {
    return task
  }

  #spawn(
    nameOrDefinition: string | AnyTaskDefinition,
    fnOrPayload: unknown,
    options: SpawnOptions | undefined,
    orThrow: boolean,
    marker: CapturedFrom,
    trusted?: ResolvedSpawnOptions,
  ): TaskHandle | undefined {
    let name = nameOrDefinition as string
    let fn = fnOrPayload as TaskFunction
    let o: ResolvedSpawnOptions
    let retry: RetryPlan | undefined
    if (typeof name !== 'string' || name.length === 0) {
      if (typeof name === 'string') throw new InvalidOptionError('spawn(name)', 'a non-empty string', name)
      // A named task: its payload is encoded now (a bad one throws here, at the call site).
      const entry = this.#options.tasks.get(nameOrDefinition)
      const definition = entry.definition
      name = definition.name
      const given = trusted ?? (options === undefined ? DEFAULT_SPAWN : resolveSpawnOptions(options))
      o = {
        ...given,
        timeout: given.timeout ?? definition.timeout,
        priority: options?.priority === undefined ? definition.priority : given.priority,
      }
      if (this.#durable !== undefined) return this.#enqueue(this.#durable, entry, fnOrPayload, o, orThrow)
      fn = TaskRegistry.taskFunction(entry, fnOrPayload)
      retry = TaskRegistry.retryPlan(entry, fn)
    } else {
      if (typeof fn !== 'function') throw new InvalidOptionError('spawn(fn)', 'a function', fn)
      if (this.#durable !== undefined) throw new NotDurableError(name, this.#durable.backend.kind)
      o = trusted ?? (options === undefined ? DEFAULT_SPAWN : resolveSpawnOptions(options))
    }

    const retryAfter = this.#options.retryAfter
    if (this.#closing !== undefined) return this.#reject(orThrow, () => new ClosingError(name, retryAfter), o)
    const admission = this.#options.admission
    let defer = false
    if (admission !== undefined) {
      const verdict = this.#admit(admission, name, o)
      if (verdict === false) return this.#reject(orThrow, () => new OverloadedError(name, o.priority, retryAfter), o)
      defer = verdict === 'defer'
    }
    let superseded: TaskRecord | undefined
    if (o.key !== undefined) {
      const existing = this.#keys.get(o.key)
      if (existing !== undefined && existing.state !== 'aborting') {
        if (o.onDuplicate === 'join') return existing
        superseded = existing
      }
    }
    const rank = priorityRank(o.priority)
    // A superseded task gives up its place: a waiting one its queue place, a running one its slot
    // (which the next waiting task would take).
    let queued = this.#queue.size + this.#delayed.size
    let running = this.#running.size
    if (superseded?.state === 'pending') queued--
    else if (superseded?.state === 'running') {
      running--
      if (queued > 0) {
        queued--
        running++
      }
    }
    const full = queued >= this.#options.maxQueue && !(running < this.#concurrency && queued === 0)
    if (full && !this.#overflow(name, rank, o, orThrow)) return undefined
    if (superseded !== undefined) this.cancelTask(superseded, 'superseded')

    const now = this.#clock.now()
    // Consecutive spawns are mostly of one name: its entry is kept at hand.
    let limits = this.#lastLimits
    if (limits === undefined || limits.name !== name) this.#lastLimits = limits = this.#limits.entry(name, this.#ceiling())
    const task = new TaskRecord(
      this,
      ++this.#seq,
      name,
      fn,
      rank,
      o.timeout ?? this.#options.timeout,
      o,
      this.#sites.capture(name, marker, now),
      now,
      limits,
    )
    if (o.key !== undefined) this.#keys.set(o.key, task)
    if (retry !== undefined) task.retry = retry
    this.#spawned++
    if (this.#listeners.spawned.length !== 0) this.#listeners.emit1('spawned', task)
    if (o.delay !== undefined) {
      // Not startable yet: it waits for its time in the delayed set (and keeps the caller's async context).
      task.restore = new AsyncResource('fastify-tasks.task')
      this.#delay(task, now + o.delay, now)
      return task
    }
    if (defer) this.#deferred++
    this.#enter(task, limits, now, defer)
    return task
  }

  /** Starts a new task now if it may, else queues it (keeping the caller's async context to run in). */
  #enter(task: TaskRecord, limits: NameLimit<TaskRecord>, now: number, defer: boolean): void {
    if (
      !defer &&
      this.#running.size < this.#concurrency &&
      this.#queue.size === 0 &&
      limits.running < limits.limit &&
      limits.blockedUntil <= now &&
      this.#mayStart(task)
    ) {
      this.#start(task, now)
    } else {
      if (limits.adaptive !== undefined && limits.running >= limits.limit) limits.adaptive.saturated = true
      // Started later from another task's settlement: keep the caller's async context to run in.
      // (AsyncLocalStorage.snapshot() costs about a hundred times an AsyncResource on Node 20.)
      task.restore = new AsyncResource('fastify-tasks.task')
      this.#queue.push(task)
      this.#pump(now)
    }
  }

  /** A named task spawned on a durable backend: refused now (closing, overloaded, too many unacknowledged) or handed over. */
  #enqueue(
    intake: DurableIntake,
    entry: RegisteredTask,
    payload: unknown,
    o: ResolvedSpawnOptions,
    orThrow: boolean,
  ): TaskHandle | undefined {
    const name = entry.definition.name
    const { retryAfter, maxQueue } = this.#options
    if (this.#closing !== undefined) return this.#reject(orThrow, () => new ClosingError(name, retryAfter), o)
    const admission = this.#options.admission
    if (admission !== undefined && this.#admit(admission, name, o) === false) {
      return this.#reject(orThrow, () => new OverloadedError(name, o.priority, retryAfter), o)
    }
    if (intake.admitting >= maxQueue) return this.#reject(orThrow, () => new QueueFullError(name, maxQueue, retryAfter), o)
    return intake.enqueue(entry, payload, o, o.timeout ?? this.#options.timeout, retryAfter)
  }

  /** A task a durable backend hands over: run here like a spawned one, past admission and `maxQueue` (see BackendHost.run). */
  #runIncoming(incoming: IncomingTask): TaskHandle {
    const name = incoming.name
    const entry = this.#options.tasks.named(name)
    if (entry === undefined) throw new UnknownTaskError(name, 'this process has no definition of it (pass it in the `tasks` option)')
    if (this.#closing !== undefined) throw new ClosingError(name, this.#options.retryAfter)
    const { codec } = entry
    const payload = incoming.payload
    const fn: TaskFunction = (context) => codec.run(payload, context)
    const o: ResolvedSpawnOptions = {
      ...DEFAULT_SPAWN,
      priority: incoming.priority,
      timeout: incoming.timeout,
      labels: incoming.labels,
      meta: incoming.meta,
    }
    const now = this.#clock.now()
    let limits = this.#lastLimits
    if (limits === undefined || limits.name !== name) this.#lastLimits = limits = this.#limits.entry(name, this.#ceiling())
    const task = new TaskRecord(this, ++this.#seq, name, fn, priorityRank(o.priority), incoming.timeout, o, undefined, now, limits)
    task.externalId = incoming.id
    if (incoming.attempt !== 1) task.attempt = incoming.attempt
    this.#spawned++
    if (this.#listeners.spawned.length !== 0) this.#listeners.emit1('spawned', task)
    this.#enter(task, limits, now, false)
    return task
  }

  /** Counts and reports a spawn the durable backend did not acknowledge (its `admitted` rejects with `error`). */
  #unavailable(error: BackendUnavailableError, o: ResolvedSpawnOptions): void {
    this.#refused(error, o, true)
  }

  /**
   * Spawns the named task `definition` with `payload` on a schedule: every `options.every` ms, or at
   * the times of the cron pattern `options.cron` (in `options.tz`); the first time after one interval
   * or at the pattern's next time, or at once too with `immediately`.
   *
   * In memory it is an in-process schedule, until `stop()` or `close()`: each run a tracked task like
   * any other (its `meta.schedule` is `id`). Runs never overlap: a turn that finds the previous run
   * still live spawns nothing (counted as `skipped`); a turn whose spawn is refused (queue full,
   * overloaded) is counted as `refused`.
   *
   * On a durable backend the schedule is kept by the broker, shared by every replica (each turn
   * spawns once, whichever replicas called `repeat`) and kept across restarts and `close()`, until
   * `stop()` or `unschedule(id)`; `handle.admitted` says when the broker has it.
   *
   * `id` names the schedule: repeating an id again replaces its schedule. The payload is checked
   * now, as by `spawn`.
   */
  repeat<P, R>(id: string, definition: TaskDefinition<P, R>, payload: NoInfer<P>, options: RepeatOptions): RepeatHandle {
    const scheduleId = checkScheduleId('repeat(id)', id)
    if (typeof definition !== 'object' || definition === null) {
      throw new InvalidOptionError(
        'repeat(definition)',
        'a definition made by defineTask() and registered in `tasks` (a schedule runs a named task)',
        definition,
      )
    }
    const entry = this.#options.tasks.get(definition)
    const { cadence, immediately } = checkRepeatOptions(options)
    // Encoded now: a bad payload throws here rather than at every turn, and each turn gets a copy of
    // the payload as it was (the caller changing its object later changes nothing).
    const json = entry.codec.encode(payload)
    if (this.#closing !== undefined) throw new ClosingError(entry.definition.name, this.#options.retryAfter)
    if (this.#durable !== undefined) return this.#repeatDurable(this.#durable.backend, scheduleId, entry, json, cadence, immediately)
    this.#schedules.get(scheduleId)?.stop()
    // A key no caller writes by accident (it starts with a NUL character).
    const spawnOptions: SpawnOptions = { key: `\u0000schedule:${scheduleId}`, meta: { schedule: scheduleId } }
    const fire = (): { task: TaskHandle | undefined; joined: boolean } => {
      const before = this.#keys.get(spawnOptions.key!)
      let task: TaskHandle | undefined
      try {
        task = this.trySpawn(definition, (json === '' ? undefined : JSON.parse(json)) as NoInfer<P>, spawnOptions)
      } catch (error) {
        this.#listenerFailed(error, 'admission')
      }
      return { task, joined: task !== undefined && task === before }
    }
    const schedule = new RepeatSchedule(scheduleId, entry.definition.name, cadence, immediately, this.#clock, fire)
    this.#schedules.set(scheduleId, schedule)
    return {
      id: scheduleId,
      admitted: ADMITTED,
      stop: () => {
        if (this.#schedules.get(scheduleId) !== schedule) return false
        this.#schedules.delete(scheduleId)
        return schedule.stop()
      },
    }
  }

  /** `repeat()` on a durable backend: the broker keeps the schedule. */
  #repeatDurable(
    backend: TaskBackend,
    id: string,
    entry: RegisteredTask,
    json: string,
    cadence: Cadence,
    immediately: boolean,
  ): RepeatHandle {
    const { definition } = entry
    if (backend.schedule === undefined) {
      throw new InvalidOptionError('repeat()', `a backend that keeps schedules: the ${backend.kind} backend has none`, id)
    }
    const cron = 'cron' in cadence ? cadence.cron : undefined
    const schedule: OutgoingSchedule = {
      id,
      name: definition.name,
      payload: json,
      priority: definition.priority,
      timeout: definition.timeout ?? this.#options.timeout,
      attempts: definition.retries + 1,
      every: 'every' in cadence ? cadence.every : null,
      cron: cron?.pattern ?? null,
      tz: cron?.tz ?? null,
      immediately,
      meta: { schedule: id },
    }
    const admitted = this.#backendCall(() => backend.schedule!(schedule), definition.name, `Schedule "${id}" was not kept`)
    // Handled here: a caller who never awaits `admitted` must not get an unhandledRejection.
    admitted.catch(() => undefined)
    const token = {}
    this.#durableSchedules.set(id, token)
    return {
      id,
      admitted,
      stop: () => {
        if (this.#durableSchedules.get(id) !== token) return false
        this.unschedule(id).catch((error: unknown) => this.#listenerFailed(error, 'admission'))
        return true
      },
    }
  }

  /**
   * Removes the schedule `id`: in memory as its handle's `stop()`; on a durable backend from the
   * broker, for every replica. Resolves `true` if there was one; rejects with
   * `BackendUnavailableError` when the broker did not answer.
   */
  async unschedule(id: string): Promise<boolean> {
    const scheduleId = checkScheduleId('unschedule(id)', id)
    if (this.#durable === undefined) {
      const schedule = this.#schedules.get(scheduleId)
      if (schedule === undefined) return false
      this.#schedules.delete(scheduleId)
      return schedule.stop()
    }
    this.#durableSchedules.delete(scheduleId)
    const backend = this.#durable.backend
    if (backend.unschedule === undefined) return false
    return this.#backendCall(() => backend.unschedule!(scheduleId), scheduleId, `Schedule "${scheduleId}" was not removed`)
  }

  /** A call to the durable backend; its failure a `BackendUnavailableError` saying what was not done. */
  async #backendCall<T>(call: () => Promise<T>, task: string, failed: string): Promise<T> {
    const backend = this.#durable!.backend
    try {
      return await call()
    } catch (cause) {
      throw new BackendUnavailableError(task, backend.kind, this.#options.retryAfter, cause, failed)
    }
  }

  /**
   * The schedules of this process, with their counts and when they next spawn: the in-memory ones
   * (on a durable backend the broker keeps them: see {@link Scheduler.backendSchedules}).
   */
  schedules(): ScheduleState[] {
    const now = this.#clock.now()
    return [...this.#schedules.values()].map((schedule) => schedule.state(now))
  }

  /**
   * The durable backend's schedules, shared by every replica, at most `limit` (default 100), the
   * soonest due first, and how many it keeps in all: one round trip. `undefined` in memory or on a
   * backend that keeps none; `null` when the broker does not answer.
   */
  async backendSchedules(limit = DEFAULT_LIST_LIMIT): Promise<{ schedules: ScheduleState[]; total: number } | null | undefined> {
    checkInteger('backendSchedules(limit)', limit, { min: 1, max: 10_000 })
    const backend = this.#durable?.backend
    if (backend?.schedules === undefined) return undefined
    let kept: { readonly schedules: readonly BackendSchedule[]; readonly total: number }
    try {
      kept = await backend.schedules(limit)
    } catch {
      return null
    }
    // eslint-disable-next-line no-restricted-properties -- the broker's times are wall-clock times
    const wall = this.#clock.wallTime?.() ?? Date.now()
    const schedules = kept.schedules.slice(0, limit).map((s): ScheduleState => ({
      id: s.id,
      name: s.name,
      every: s.every,
      cron: s.cron,
      tz: s.tz,
      nextInMs: s.nextAt === null ? null : Math.max(0, Math.round(s.nextAt - wall)),
      spawned: s.spawned,
      skipped: null,
      refused: null,
      lastTaskId: null,
      where: backend.kind,
    }))
    return { schedules, total: Math.max(kept.total, schedules.length) }
  }

  /**
   * Pauses (`true`) or resumes (`false`) the tasks a durable backend hands this process to run, e.g.
   * while the process is overloaded (the fastify-tasks backpressure does so): what it handed over
   * keeps running, and other processes take the rest meanwhile. Idempotent; nothing in memory.
   */
  pauseBackend(paused: boolean): void {
    checkBoolean('pauseBackend(paused)', paused)
    if (this.#durable === undefined || this.#closing !== undefined || this.#backendPaused === paused) return
    this.#backendPaused = paused
    try {
      this.#durable.backend.pauseConsuming(paused)
    } catch (error) {
      this.#listenerFailed(error, 'admission')
    }
  }

  /** Cancels the live task with this id. Returns `false` if there is none or it was already aborted. */
  cancel(id: string, reason: CancelReason = 'caller'): boolean {
    checkCancelReason(reason)
    const task = this.#byId(id)
    return task === undefined ? false : this.cancelTask(task, reason)
  }

  /**
   * Cancels the task with this id wherever it is: here, as {@link Scheduler.cancel} does, or, on a
   * durable backend, in the broker (a task still waiting is removed: `cancelled`) or in the process
   * that runs it (asked to stop: `aborting`; its outcome tells the rest). `not_found` when it is
   * nowhere live. In memory, only here.
   */
  async cancelAnywhere(id: string, reason: CancelReason = 'caller'): Promise<BackendCancel> {
    checkCancelReason(reason)
    const task = this.#byId(id)
    if (task !== undefined) return this.cancelTask(task, reason) ? (task.state === 'cancelled' ? 'cancelled' : 'aborting') : 'not_found'
    if (this.#durable === undefined || typeof id !== 'string') return 'not_found'
    return this.#durable.backend.cancel(id, reason)
  }

  /**
   * The durable backend's tasks by state across every process (`waiting`, `delayed`, `active`, …, as
   * the broker names them), one round trip; `undefined` in memory or when the broker does not answer.
   */
  async backendJobs(): Promise<Readonly<Record<string, number>> | undefined> {
    if (this.#durable === undefined) return undefined
    try {
      return await this.#durable.backend.jobCounts()
    } catch {
      return undefined
    }
  }

  /** Cancels every live task `predicate` selects (by name, labels, meta…). Returns how many. */
  cancelWhere(predicate: (task: TaskHandle) => boolean, reason: CancelReason = 'caller'): number {
    if (typeof predicate !== 'function') throw new InvalidOptionError('cancelWhere(predicate)', 'a function', predicate)
    checkCancelReason(reason)
    const selected: TaskRecord[] = []
    for (const task of this.#liveTasks()) if (predicate(task)) selected.push(task)
    let count = 0
    for (const task of selected) if (this.cancelTask(task, reason)) count++
    return count
  }

  /** The live task with this id, if any. */
  get(id: string): TaskHandle | undefined {
    return this.#byId(id)
  }

  /**
   * Subscribes to lifecycle events; returns the unsubscribe function. Listeners run synchronously on the
   * hot path: keep them cheap.
   */
  subscribe(listener: LifecycleListener): () => void {
    if (typeof listener !== 'object' || listener === null) {
      throw new InvalidOptionError('subscribe(listener)', 'an object of lifecycle hooks', listener)
    }
    this.#listeners.add(listener)
    let subscribed = true
    return () => {
      if (!subscribed) return
      subscribed = false
      this.#listeners.remove(listener)
    }
  }

  /** Tasks allowed to run at once. Settable at run time (adaptive concurrency); queued tasks start at once when it grows. */
  get concurrency(): number {
    return this.#concurrency
  }

  set concurrency(value: number) {
    this.#concurrency = checkInteger('concurrency', value, { min: 1 })
    this.#pump()
  }

  /**
   * The limit of each task name that has one (names seen lately: an idle name is forgotten once more
   * than a thousand are known), with what it holds, its recent queue waits and why its limit last
   * moved. Sorted by name.
   */
  limits(): NameLimitState[] {
    const now = this.#clock.now()
    const states: NameLimitState[] = []
    for (const entry of this.#limits) states.push(nameLimitState(entry, now))
    return states.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  /** The limit of one task name, or `undefined` if the scheduler has no entry for it (see `limits()`). */
  limitOf(name: string): NameLimitState | undefined {
    if (typeof name !== 'string') throw new InvalidOptionError('limitOf(name)', 'a string', name)
    const entry: NameLimit<TaskRecord> | undefined = this.#limits.get(name)
    return entry === undefined ? undefined : nameLimitState(entry, this.#clock.now())
  }

  /**
   * Asks the `startGate` again and starts the waiting tasks it now lets through, as far as slots are
   * free. Call it when the gate's answer may have changed (the overload it reports is over): the
   * scheduler asks the gate only when a slot frees up or `concurrency` grows. There is no pause: a
   * gate that still says `false` keeps the queue where it is.
   */
  recheckStartGate(): void {
    this.#pump()
  }

  /**
   * Resolves once no task is pending or running: at once if none is, else when the last one settles
   * or is given up on. Tasks already given up on (`aborting`) are not waited for, as in `close()`:
   * they hold no slot and may never settle. Never rejects. For tests and scripts that would otherwise
   * poll `liveCount`.
   */
  onIdle(): Promise<void> {
    if (this.#queue.size === 0 && this.#running.size === 0 && this.#delayed.size === 0) return Promise.resolve()
    return new Promise<void>((resolve) => this.#idleWaiters.push(resolve))
  }

  /**
   * Live tasks: pending (queued), running and aborting (given up on, function not settled yet). Not
   * the queue's length alone: that is `summary().live.pending`.
   */
  get liveCount(): number {
    return this.#queue.size + this.#delayed.size + this.#running.size + this.#givenUp.size
  }

  /** `true` once `close()` was called: no task is admitted any more. */
  get closing(): boolean {
    return this.#closing !== undefined
  }

  /** Counts and limits. */
  summary(): SchedulerSummary {
    return summarize(this.#state())
  }

  /** Live tasks grouped by name, state, spawn site and labels; largest groups first. */
  groups(): TaskGroup[] {
    return groupLiveTasks(this.#state())
  }

  /** One page of live tasks matching `query`, in spawn order. */
  list(query: ListQuery = {}): TaskPage {
    const resolved = checkListQuery(query)
    return listLiveTasks(this.#state(), resolved)
  }

  /** Recently terminated tasks, newest first (at most `historySize`). */
  history(limit: number = DEFAULT_LIST_LIMIT): HistoryEntry[] {
    checkInteger('history(limit)', limit, { min: 1 })
    return this.#history.snapshot(this.#clock.now(), limit, (ref) => this.siteOf(ref))
  }

  /**
   * Stops intake, lets queued and running tasks finish until `timeout`, then drops what never
   * started and aborts the rest with reason `shutdown`, waits `abortGrace` for them, and resolves
   * with a report of what finished and what was abandoned. Never rejects. Idempotent: later calls
   * return the first call's promise.
   */
  close(options: CloseOptions = {}): Promise<CloseReport> {
    if (this.#closing !== undefined) return this.#closing
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError('close(options)', 'an object', options)
    const timeout =
      options.timeout === undefined ? DEFAULT_CLOSE_TIMEOUT : checkDuration('close(options.timeout)', options.timeout, { infinity: true })
    // Closing from here on, before the drain's first (synchronous) step runs listeners that may call
    // close() or spawn() again.
    let settle!: (report: CloseReport) => void
    this.#closing = new Promise<CloseReport>((resolve) => (settle = resolve))
    for (const schedule of this.#schedules.values()) schedule.stop()
    this.#drain(timeout).then(settle, (error: unknown) => {
      // The drain guards every listener call; this is a last guard so that close() still resolves.
      this.#listenerFailed(error, 'settled')
      settle(failedCloseReport())
    })
    return this.#closing
  }

  // --- TaskOwner: what a task calls on its scheduler. Internal: left out of the published
  // declarations (`stripInternal`); a test checks they stay out. ------------------------------------

  /** @internal `handle.cancel(reason)` */
  cancelTask(task: TaskRecord, reason: CancelReason): boolean {
    checkCancelReason(reason)
    if (task.owner !== this) return false
    if (task.state === 'pending') {
      if (!this.#delayed.remove(task)) this.#dequeue(task)
      task.reason = reason
      if (this.#listeners.aborted.length !== 0) this.#listeners.emit2('aborted', task, reason)
      this.#terminate(task, 'cancelled', this.#clock.now())
      return true
    }
    if (task.state === 'running') {
      this.#abort(task, reason, this.#clock.now())
      return true
    }
    return false
  }

  /** @internal `context.progress()` */
  progressTask(task: TaskRecord): void {
    if (task.state !== 'running' && task.state !== 'aborting') return
    task.lastProgressAt = this.#clock.now()
    if (this.#listeners.progress.length !== 0) this.#listeners.emit1('progress', task)
  }

  /** @internal `handle.site`, and the sites of snapshots, history and close reports */
  siteOf(site: SiteRef): string | undefined {
    return this.#sites.resolve(site)
  }

  // --- internals ---------------------------------------------------------------------------------

  #byId(id: string): TaskRecord | undefined {
    if (!isTaskId(id)) {
      // A durable backend's job id, on the tasks it handed over.
      if (this.#durable === undefined || typeof id !== 'string') return undefined
      for (const task of this.#liveTasks()) if (task.id === id) return task
      return undefined
    }
    const seq = Number(id)
    for (const task of this.#liveTasks()) if (task.seq === seq) return task
    return undefined
  }

  #admit(admission: AdmissionCheck, name: string, o: ResolvedSpawnOptions): boolean | 'defer' {
    try {
      const verdict = admission({ name, priority: o.priority, labels: o.labels })
      return verdict === 'defer' ? 'defer' : verdict !== false
    } catch (error) {
      this.#listenerFailed(error, 'admission')
      return true
    }
  }

  /**
   * Counts a refusal and tells the `rejected` listeners; throws the error when `orThrow`, else returns
   * `undefined`. The error of a refusal nobody throws is made without a stack (capturing one costs
   * more than the rest of a spawn, and under overload refusals come by the thousand).
   */
  #reject(orThrow: boolean, make: () => AdmissionError, o: ResolvedSpawnOptions): undefined {
    const error = orThrow ? make() : withoutStack(make)
    this.#refused(error, o, orThrow)
    if (orThrow) throw error
    return undefined
  }
  /** Counts a refusal and tells the `rejected` listeners. */
  #refused(error: AdmissionError, o: ResolvedSpawnOptions, thrown: boolean): void {
    this.#rejected[error.reason]++
    if (this.#listeners.rejected.length !== 0) {
      this.#listeners.emit1('rejected', {
        name: error.task,
        priority: o.priority,
        labels: o.labels,
        meta: o.meta,
        data: o.data,
        error,
        thrown,
      })
    }
  }

  /** Makes room for one more queued task; refuses the newcomer (see `#reject`) when it cannot. Returns whether there is room. */
  #overflow(name: string, rank: number, o: ResolvedSpawnOptions, orThrow: boolean): boolean {
    const policy = this.#options.overflow
    let victim: TaskRecord | undefined
    if (policy === 'drop_oldest') victim = this.#queue.oldest()
    else if (policy === 'drop_lowest_priority') {
      const lowest = this.#queue.lowest()
      if (lowest !== undefined && lowest.rank >= rank) victim = lowest
    }
    if (victim === undefined) {
      const { maxQueue, retryAfter } = this.#options
      return this.#reject(orThrow, () => new QueueFullError(name, maxQueue, retryAfter), o) ?? false
    }
    this.#dequeue(victim)
    victim.reason = 'overflow'
    this.#terminate(victim, 'dropped', this.#clock.now())
    return true
  }

  #start(task: TaskRecord, now: number): void {
    task.state = 'running'
    task.startedAt = now
    this.#running.add(task)
    const limits = task.limits
    const adaptive = limits.adaptive
    if (++limits.running > (adaptive?.peak ?? Infinity)) adaptive!.peak = limits.running
    if (limits.rate !== undefined) {
      const until = limits.countStart(limits.rate, now, !this.#ratesHeldByBackend)
      if (until !== undefined) {
        this.#rateBlocked.add(limits)
        this.#delayTimer.ensure(until, now)
      }
    }
    limits.recordWait(now - task.readyAt)
    if (task.timeout !== Infinity) {
      task.deadline = now + task.timeout
      this.#timer.ensure(task.deadline, now)
    }
    if (this.#listeners.started.length !== 0) this.#listeners.emit2('started', task, now - task.readyAt)
    const fn = task.fn as (context: TaskContext) => unknown
    const restore = task.restore
    task.fn = undefined
    task.restore = undefined
    let result: unknown
    try {
      const context = this.taskContext(task)
      result = restore === undefined ? fn(context) : restore.runInAsyncScope(fn, undefined, context)
    } catch (error) {
      this.#ran(task, false, error)
      return
    }
    if (result !== null && (typeof result === 'object' || typeof result === 'function')) {
      let then: unknown
      try {
        then = (result as { then?: unknown }).then
      } catch (error) {
        this.#ran(task, false, error)
        return
      }
      if (typeof then === 'function') {
        try {
          ;(then as PromiseLike<unknown>['then']).call(
            result,
            (value) => this.#ran(task, true, value),
            (error: unknown) => this.#ran(task, false, error),
          )
        } catch (error) {
          this.#ran(task, false, error)
          return
        }
        if (task.state === 'running') task.promise = result
        return
      }
    }
    this.#ran(task, true, result)
  }

  /** The task's function settled. */
  #ran(task: TaskRecord, ok: boolean, result: unknown): void {
    const state = task.state
    task.promise = undefined
    if (state === 'aborting') this.#hangs?.unregister(task)
    if (state !== 'running' && state !== 'aborting') {
      // Released without settling, and now it settles: count it, keep nothing of it.
      if (task.release !== undefined && !task.settledLate) {
        task.settledLate = true
        this.#late++
        if (this.#listeners.late.length !== 0) this.#listeners.emit1('late', task)
      }
      return
    }
    let outcome: Outcome
    const now = this.#clock.now()
    if (state === 'aborting') {
      this.#leaveGivenUp(task)
      outcome = task.reason === 'timeout' ? 'timed_out' : 'cancelled'
    } else {
      this.#running.remove(task)
      task.deadline = Infinity
      this.#leavePool(task, now, true)
      outcome = ok ? 'completed' : 'failed'
      const retry = task.retry
      if (!ok && retry !== undefined && task.attempt <= retry.retries && this.#closing === undefined && retry.retryable(result)) {
        this.#retryLater(task, retry, result, now)
        this.#pump(now)
        return
      }
    }
    if (ok) task.value = result
    else task.error = result
    this.#terminate(task, outcome, now)
    this.#pump(now)
  }

  /**
   * Gives up on a running task: its signal aborts, it leaves the concurrency pool at once (a waiting
   * task takes the slot) and it is tracked in the given-up set until its function settles or it is
   * released (evicted to make room, expired, or closed).
   */
  #abort(task: TaskRecord, reason: AbortReason, now: number): void {
    this.#running.remove(task)
    task.deadline = Infinity
    // Past its deadline, its run time says as much about the dependency as a completion does.
    this.#leavePool(task, now, reason === 'timeout')
    task.state = 'aborting'
    task.reason = reason
    task.abortedAt = now
    const givenUp = this.#givenUp
    // Aborted by the drain itself: waited for abortGrace whatever the caps (at most `concurrency` more).
    const shutdown = reason === 'shutdown' && this.#closing !== undefined && !this.#releaseOnGiveUp
    let release: Release | undefined
    if (this.#releaseOnGiveUp) release = 'closed'
    else if (givenUp.disabled && !shutdown) release = 'evicted'
    else {
      // Releasing a victim runs listeners, which may give up more tasks or start the drain: look again.
      for (let victim = shutdown ? undefined : givenUp.victimFor(task.name); victim !== undefined; victim = givenUp.victimFor(task.name)) {
        this.#release(victim, 'evicted', now)
      }
      if (this.#releaseOnGiveUp) release = 'closed'
      else {
        givenUp.add(task)
        this.#watchForHang(task)
        const { abortGrace, givenUpTtl } = this.#options
        this.#timer.ensure(now + Math.min(abortGrace, givenUpTtl), now)
      }
    }
    if (this.#abandonedSink !== undefined && release === 'closed') {
      task.abandoned = true
      this.#abandonedSink.push(task)
    }
    if (this.#listeners.aborted.length !== 0) this.#listeners.emit2('aborted', task, reason)
    if (task.controller !== undefined) task.controller.abort(new TaskAbortedError(task.name, reason))
    if (release !== undefined && task.state === 'aborting') this.#release(task, release, now)
    this.#pump(now)
    if (this.#idleWaiters.length !== 0) this.#wakeIdleWaiters()
  }

  /** Ends a given-up task whose function has not settled: its terminal state now, `release` says why. */
  #release(task: TaskRecord, release: Release, now: number): void {
    // Already ended (it settled, or was released, while listeners ran during a loop over a copy).
    if (task.state !== 'aborting') return
    this.#leaveGivenUp(task)
    task.release = release
    this.#released[release]++
    this.#terminate(task, task.reason === 'timeout' ? 'timed_out' : 'cancelled', now)
  }

  /**
   * A running task gives its slot back: its name's count drops and, when `sampled`, its run time
   * feeds the name's adaptive limit.
   */
  #leavePool(task: TaskRecord, now: number, sampled: boolean): void {
    const limits = task.limits
    limits.running--
    if (sampled && limits.adaptive !== undefined && limits.adaptive.sample(task.startedAt, now, limits.running, this.#limitContext)) {
      limits.limit = limits.adaptive.limit
    }
    if (limits.running === 0 && limits.waiting === 0) this.#forgetIfIdle(limits)
  }

  /** An entry became idle: the registry may forget it (and then so does the spawn path's cache). */
  #forgetIfIdle(limits: NameLimit<TaskRecord>): void {
    if (this.#limits.idle(limits) && this.#lastLimits === limits) this.#lastLimits = undefined
  }

  /** A pending task waits in the delayed set until `readyAt`; the timer wakes for it. */
  #delay(task: TaskRecord, readyAt: number, now: number): void {
    task.readyAt = readyAt
    this.#delayed.add(task)
    this.#delayTimer.ensure(readyAt, now)
  }

  /** A failed attempt of a task with retries left: it waits, pending and without a slot, then runs again. */
  #retryLater(task: TaskRecord, retry: RetryPlan, error: unknown, now: number): void {
    const failed = task.attempt
    const wait = retry.delayAfter(failed)
    task.attempt = failed + 1
    task.state = 'pending'
    task.fn = retry.fn
    task.startedAt = NaN
    if (this.#listeners.retrying.length !== 0) this.#listeners.emit3('retrying', task, error, wait)
    // A listener may have cancelled it, or closed the scheduler.
    if (task.state === 'pending') this.#delay(task, now + wait, now)
  }

  /** Takes a waiting task out of the queue without starting it. */
  #dequeue(task: TaskRecord): void {
    this.#queue.remove(task)
    const limits = task.limits
    if (limits.running === 0 && limits.waiting === 0) this.#forgetIfIdle(limits)
  }

  /** What adaptive limits may grow to: the concurrency configured, or set since if higher (backpressure lowers it for a while). */
  #ceiling(): number {
    return Math.max(this.#options.concurrency, this.#concurrency)
  }

  /** What adaptive limits read at the end of a window. */
  readonly #limitContext: LimitContext = {
    ceiling: () => this.#ceiling(),
    // The `limits.pressure` hook's verdict: none without a hook; one that throws counts as none and is reported.
    pressure: () => {
      const pressure = this.#limits.options.pressure
      if (pressure === undefined) return undefined
      try {
        const reason = pressure()
        return typeof reason === 'string' ? reason : undefined
      } catch (error) {
        this.#listenerFailed(error, 'admission')
        return undefined
      }
    },
  }

  #leaveGivenUp(task: TaskRecord): void {
    if (this.#givenUp.delete(task)) {
      if (task.leaked) this.#leakedLive--
      if (task.hung) this.#hungLive--
    }
  }

  /**
   * A task stays tracked in the given-up set: from now on its function's promise is held only weakly,
   * and its collection proves the task hung.
   */
  #watchForHang(task: TaskRecord): void {
    const promise = task.promise
    if (promise === undefined) return
    task.promise = undefined
    this.#hangs ??= new FinalizationRegistry((ref) => {
      const hung = ref.deref()
      if (hung !== undefined && hung.state === 'aborting' && this.#givenUp.has(hung)) this.#flagHung(hung)
    })
    this.#hangs.register(promise, new WeakRef(task), task)
  }

  #flagHung(task: TaskRecord): void {
    if (task.hung) return
    task.hung = true
    this.#hungTotal++
    this.#hungLive++
    if (this.#listeners.hung.length !== 0) this.#listeners.emit1('hung', task)
  }

  /**
   * The deadline timer fired: give up on running tasks past their deadline, flag given-up ones past
   * their grace as leaked, release those past `givenUpTtl`. Returns the next time to wake up for.
   */
  /** The delay timer fired: delayed tasks whose time came queue up. Returns the next time to wake up for. */
  #wake(now: number): number {
    let ready = false
    for (let task = this.#delayed.popDue(now); task !== undefined; task = this.#delayed.popDue(now)) {
      this.#queue.push(task)
      ready = true
    }
    // Names whose rate window ended may start again; the others are woken for later.
    let next = this.#delayed.nextAt
    for (const limits of this.#rateBlocked) {
      if (limits.blockedUntil <= now) {
        this.#rateBlocked.delete(limits)
        ready = true
      } else if (limits.blockedUntil < next) next = limits.blockedUntil
    }
    if (ready) this.#pump(now)
    return Math.min(next, this.#delayed.nextAt)
  }

  #sweep(now: number): number {
    const due: TaskRecord[] = []
    for (const task of this.#running.tasks) if (task.deadline <= now) due.push(task)
    for (const task of due) if (task.state === 'running') this.#abort(task, 'timeout', now)
    const { abortGrace, givenUpTtl } = this.#options
    const givenUp = this.#givenUp
    // Grace and time to live are the same for every task: the oldest are always the first due.
    for (let task = givenUp.oldestUnflagged(); task !== undefined && task.abortedAt + abortGrace <= now; task = givenUp.oldestUnflagged()) {
      this.#flagLeaked(task)
    }
    for (let task = givenUp.oldest(); task !== undefined && task.abortedAt + givenUpTtl <= now; task = givenUp.oldest()) {
      this.#release(task, 'expired', now)
    }
    let next = Infinity
    for (const task of this.#running.tasks) if (task.deadline < next) next = task.deadline
    const unflagged = givenUp.oldestUnflagged()
    if (unflagged !== undefined && unflagged.abortedAt + abortGrace < next) next = unflagged.abortedAt + abortGrace
    const oldest = givenUp.oldest()
    if (oldest !== undefined && oldest.abortedAt + givenUpTtl < next) next = oldest.abortedAt + givenUpTtl
    return next
  }

  #flagLeaked(task: TaskRecord): void {
    if (task.leaked) return
    task.leaked = true
    this.#leakedTotal++
    if (this.#givenUp.has(task)) {
      this.#givenUp.flagged(task)
      this.#leakedLive++
    }
    if (this.#listeners.leaked.length !== 0) this.#listeners.emit1('leaked', task)
  }

  /** The one way into a terminal state; runs exactly once per task. */
  #terminate(task: TaskRecord, outcome: Outcome, now: number): void {
    task.state = outcome
    if (task.key !== undefined && this.#keys.get(task.key) === task) this.#keys.delete(task.key)
    this.#outcomes[outcome]++
    try {
      this.#history.record(task, now)
    } catch (error) {
      // Recording reads nothing the task controls (summarizeError never throws); this is a last guard
      // so that a bug there cannot leave a task counted but never settled.
      this.#listenerFailed(error, 'settled')
    }
    const waiter = task.waiter
    const listened = this.#listeners.settled.length !== 0
    if (waiter !== undefined || listened) {
      const settlement = task.settlement()
      if (waiter?.resolve !== undefined) {
        waiter.resolve(settlement)
        waiter.resolve = undefined
      }
      if (listened) this.#listeners.emit3('settled', task, settlement, Number.isNaN(task.startedAt) ? null : now - task.startedAt)
    }
    if (this.#idle !== undefined && this.#isIdle()) this.#idle()
    if (this.#idleWaiters.length !== 0) this.#wakeIdleWaiters()
  }

  /** Resolves the onIdle() callers once nothing is pending or running. */
  #wakeIdleWaiters(): void {
    if (this.#queue.size !== 0 || this.#running.size !== 0 || this.#delayed.size !== 0) return
    const waiters = this.#idleWaiters
    this.#idleWaiters = []
    for (const resolve of waiters) resolve()
  }

  /** Nothing left for the drain to wait for. */
  #isIdle(): boolean {
    return this.#queue.size === 0 && this.#running.size === 0 && (!this.#idleIncludesGivenUp || this.#givenUp.size === 0)
  }

  /** Starts waiting tasks while slots are free. `now` is the caller's reading of the clock, if fresh. */
  #pump(now?: number): void {
    if (this.#pumping) return
    this.#pumping = true
    try {
      let first = true
      const gate = this.#options.startGate === undefined ? undefined : this.#mayStartBound
      // The bulkhead: while other names wait, one name holds at most this many slots.
      const shareCap = Math.max(1, Math.floor(this.#limits.options.maxShare * this.#concurrency))
      while (this.#running.size < this.#concurrency && this.#queue.size !== 0) {
        if (!first || now === undefined) now = this.#clock.now()
        first = false
        // Tasks that finish at once (synchronously, or an async function without a real await) free
        // their slot in the same turn of the event loop, so a queue of CPU-bound tasks could run to
        // its end in one turn, starving requests and hiding the overload from the admission check.
        // Past PUMP_SLICE_MS of starts in one turn, yield and go on in the next.
        if (this.#sliceStart < 0) this.#beginSlice(now)
        else if (now - this.#sliceStart > PUMP_SLICE_MS) {
          this.#pumpLater()
          break
        }
        const next = this.#queue.peek(now, shareCap, gate)
        if (next === undefined) break
        this.#queue.remove(next)
        this.#start(next, now)
      }
    } finally {
      this.#pumping = false
    }
  }

  /** Marks the start of this turn's pumping; the next turn starts a new slice. */
  #beginSlice(now: number): void {
    this.#sliceStart = now
    setImmediate(() => {
      this.#sliceStart = -1
    })
  }

  readonly #mayStartBound = (task: TaskRecord): boolean => this.#mayStart(task)

  #pumpLater(): void {
    if (this.#pumpScheduled) return
    this.#pumpScheduled = true
    setImmediate(() => {
      this.#pumpScheduled = false
      this.#pump()
    })
  }

  /** The start gate's verdict (a throwing gate lets the task start). */
  #mayStart(task: TaskRecord): boolean {
    const gate = this.#options.startGate
    if (gate === undefined) return true
    try {
      return gate(task.priority) !== false
    } catch (error) {
      this.#listenerFailed(error, 'admission')
      return true
    }
  }

  /** Waits until nothing is left to wait for (see `#isIdle`) or `ms` has passed. */
  #backendConnected(backend: TaskBackend): boolean {
    try {
      return backend.connected() === true
    } catch {
      return false
    }
  }

  /** Waits for `promise` (whose rejection is ignored), at most `ms`. */
  #within(promise: Promise<unknown>, ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const timer = this.#clock.setTimeout(resolve, ms, true)
      const done = (): void => {
        this.#clock.clearTimeout(timer)
        resolve()
      }
      promise.then(done, done)
    })
  }

  #waitIdle(ms: number): Promise<void> {
    if (this.#isIdle() || ms === 0) return Promise.resolve()
    return new Promise<void>((resolve) => {
      let timer: unknown
      const done = (): void => {
        this.#idle = undefined
        if (timer !== undefined) this.#clock.clearTimeout(timer)
        resolve()
      }
      this.#idle = done
      if (ms !== Infinity) timer = this.#clock.setTimeout(done, ms, true)
    })
  }

  async #drain(timeout: number): Promise<CloseReport> {
    const startedAt = this.#clock.now()
    // A durable backend stops handing over tasks first: what it already did drains like the rest.
    if (this.#durable !== undefined) {
      try {
        this.#durable.backend.stopConsuming()
      } catch (error) {
        this.#listenerFailed(error, 'settled')
      }
    }
    const before = this.#outcomeCounts()
    const abandoned: TaskRecord[] = []
    // Tasks already given up on are not waited for: they end now and are reported. So do those given
    // up on while the drain waits (their deadline passes, someone cancels them).
    this.#abandonedSink = abandoned
    this.#releaseOnGiveUp = true
    for (const task of [...this.#givenUp]) {
      task.abandoned = true
      abandoned.push(task)
      this.#release(task, 'closed', startedAt)
    }
    // What waits for a later time (a delay, a retry) would not start within the drain: dropped now.
    for (const task of this.#delayed.drain()) {
      task.reason = 'shutdown'
      task.abandoned = true
      abandoned.push(task)
      this.#terminate(task, 'dropped', startedAt)
    }
    await this.#waitIdle(timeout)
    this.#releaseOnGiveUp = false
    this.#abandonedSink = undefined

    const now = this.#clock.now()
    // What never started is dropped.
    for (const task of [...this.#queue]) {
      this.#dequeue(task)
      task.reason = 'shutdown'
      task.abandoned = true
      abandoned.push(task)
      this.#terminate(task, 'dropped', now)
    }
    // What is still running is aborted, and given `abortGrace` to settle.
    for (const task of [...this.#running.tasks]) {
      task.abandoned = true
      abandoned.push(task)
      this.#abort(task, 'shutdown', now)
    }
    this.#idleIncludesGivenUp = true
    await this.#waitIdle(this.#options.abortGrace)
    this.#idleIncludesGivenUp = false
    const end = this.#clock.now()
    for (const task of [...this.#givenUp]) {
      this.#flagLeaked(task)
      if (!task.abandoned) {
        task.abandoned = true
        abandoned.push(task)
      }
      this.#release(task, 'closed', end)
    }
    this.#timer.stop()
    this.#delayTimer.stop()
    const durable = this.#durable
    if (durable !== undefined) {
      // Spawns on their way to the broker are waited for (they fail fast when it is down), then its
      // connections are closed within what is left of the budget (a short minimum to say goodbye).
      const deadline = startedAt + (timeout === Infinity ? 0 : timeout) + this.#options.abortGrace
      await this.#within(durable.settled(), deadline - this.#clock.now())
      await durable.backend
        .close(Math.max(BACKEND_CLOSE_MIN, deadline - this.#clock.now()))
        .catch((error: unknown) => this.#listenerFailed(error, 'settled'))
    }
    const endedAt = this.#clock.now()

    return closeReport({
      startedAt,
      endedAt,
      outcomesBefore: before,
      outcomesAfter: this.#outcomeCounts(),
      abandoned,
      siteOf: (ref) => this.siteOf(ref),
    })
  }

  /** Every live task: waiting ones by priority level, then those holding a slot, then those given up on. */
  *#liveTasks(): IterableIterator<TaskRecord> {
    yield* this.#queue
    yield* this.#delayed.tasks
    yield* this.#running.tasks
    yield* this.#givenUp
  }

  /** A read-only view of this scheduler's state now, for the inspection modules (made per call: inspection is cold). */
  #state(): SchedulerState {
    return {
      now: this.#clock.now(),
      options: this.#options,
      concurrency: this.#concurrency,
      closing: this.#closing !== undefined,
      queued: this.#queue,
      queueLists: this.#queue.lists,
      delayed: this.#delayed.tasks,
      running: this.#running.tasks,
      givenUp: this.#givenUp,
      counts: {
        spawned: this.#spawned,
        deferred: this.#deferred,
        rejected: this.#rejected,
        outcomes: this.#outcomes,
        leakedLive: this.#leakedLive,
        leakedTotal: this.#leakedTotal,
        hungLive: this.#hungLive,
        hungTotal: this.#hungTotal,
        released: this.#released,
        late: this.#late,
      },
      backend:
        this.#durable === undefined
          ? IN_MEMORY
          : {
              kind: this.#durable.backend.kind,
              connected: this.#backendConnected(this.#durable.backend),
              admitting: this.#durable.admitting,
              enqueued: this.#durable.enqueued,
            },
      siteOf: (ref) => this.siteOf(ref),
    }
  }

  #outcomeCounts(): Record<Outcome, number> {
    return { ...this.#outcomes }
  }

  #listenerFailed(error: unknown, event: LifecycleEvent | 'admission'): void {
    const report = this.#options.onListenerError
    try {
      if (report !== undefined) report(error, event)
      else process.emitWarning(`fastify-tasks: a "${event}" listener threw: ${String(error)}`)
    } catch {
      // A failing error reporter must not break the scheduler either.
    }
  }
}

/** Makes an error without capturing a stack. */
function withoutStack<T>(make: () => T): T {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return make()
  } finally {
    Error.stackTraceLimit = limit
  }
}

/** `spawn` and `trySpawn` themselves, as the stack markers above which spawn sites are captured. */
// eslint-disable-next-line @typescript-eslint/unbound-method -- used as a stack marker, never called
const SPAWN: CapturedFrom = Scheduler.prototype.spawn
// eslint-disable-next-line @typescript-eslint/unbound-method -- used as a stack marker, never called
const TRY_SPAWN: CapturedFrom = Scheduler.prototype.trySpawn
// A stack marker, never called through this reference.
const SPAWN_TRUSTED: CapturedFrom = (Scheduler.prototype as unknown as { spawnTrusted: CapturedFrom }).spawnTrusted

function checkCancelReason(reason: unknown): asserts reason is CancelReason {
  if (typeof reason !== 'string' || !CANCEL_REASONS.has(reason)) {
    throw new InvalidOptionError('cancel(reason)', "'caller', 'operator', 'superseded' or 'shutdown'", reason)
  }
}
