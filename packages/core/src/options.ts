import type { TaskBackend } from './backends/task-backend.js'
import type { Clock } from './clock.js'
import type { AnyTaskDefinition } from './definitions/define-task.js'
import type { SchemaCompiler } from './definitions/schema-compiler.js'
import { TaskRegistry } from './definitions/task-registry.js'
import { InvalidOptionError } from './errors.js'
import type { LifecycleEvent } from './lifecycle.js'
import { resolveLimitsOptions, type LimitsOptions, type ResolvedLimitsOptions } from './limits/limits-options.js'
import { PRIORITIES, type Priority } from './priority.js'
import type { SpawnSiteMode } from './spawn-site.js'
import {
  checkArray,
  checkDuration,
  checkFunction,
  checkInteger,
  checkKnownKeys,
  checkNumber,
  checkObject,
  checkOneOf,
  checkString,
  type DurationBounds,
} from './validation.js'

/** What to do when a task arrives and the queue already holds `maxQueue` tasks. */
export type OverflowPolicy = 'reject' | 'drop_oldest' | 'drop_lowest_priority'

/** What an admission check is told about a task that wants in. */
export interface AdmissionRequest {
  readonly name: string
  readonly priority: Priority
  readonly labels: Readonly<Record<string, string>> | undefined
}

/**
 * Asked before every spawn: `true` admits the task, `false` refuses it with reason `overloaded`, and
 * `'defer'` admits it into the queue even if a slot is free (it starts once `startGate` lets it).
 * Keep it cheap: it runs on the hot path.
 */
export type AdmissionCheck = (request: AdmissionRequest) => boolean | 'defer'

/**
 * Asked before a waiting task starts: `false` keeps it (and everything ranked after it) waiting until
 * `scheduler.recheckStartGate()` is called. Used to hold deferred work while the process is overloaded.
 */
export type StartGate = (priority: Priority) => boolean

/** Options of a {@link Scheduler}. Every one is validated; a wrong one throws `InvalidOptionError`. */
export interface SchedulerOptions {
  /**
   * Tasks allowed to run at once, all names together: the ceiling that bounds memory and sockets.
   * Within it, each task name has its own limit (see `limits`; adaptive by default). A task holds its
   * slot until its function settles or it is given up on (its deadline passed, or it was cancelled):
   * then it leaves the pool at once and is tracked in the given-up set (see `maxGivenUpPerName`), so
   * tasks that ignore their signal cannot take every slot.
   * @default 1_000 (100 before limits per name existed)
   */
  concurrency?: number
  /**
   * Limits per task name within `concurrency`: adaptive (found from each name's run time) by default,
   * or fixed; and the bulkhead that keeps one name from taking every slot while others wait.
   */
  limits?: LimitsOptions
  /**
   * The named tasks this scheduler may spawn (made by `defineTask`), one per name. A definition must be
   * registered here to be spawned, as on a durable backend, whose consumers know tasks by name only.
   * @default []
   */
  tasks?: readonly AnyTaskDefinition[]
  /**
   * Compiles a definition's payload JSON schema into a validator, once per definition, when the
   * scheduler is made. Needed when a definition in `tasks` has a `payload` schema; fastify-tasks
   * passes one built on Fastify's own validator (Ajv).
   */
  compileSchema?: SchemaCompiler
  /**
   * Where named tasks are kept and run. Without one, in this process's memory (closures too). With a
   * durable one (such as `@fastify-tasks/bullmq`), `spawn(definition, payload)` persists the task in
   * the broker (`handle.admitted` says when it did) and this process runs what the backend hands it;
   * spawning a function throws `NotDurableError`. `maxQueue` then bounds the spawns still waiting for
   * the broker's acknowledgement.
   * @default undefined (in memory)
   */
  backend?: TaskBackend | undefined
  /**
   * Tasks allowed to wait for a slot. Beyond it, `overflow` decides.
   * @default 10_000
   */
  maxQueue?: number
  /**
   * `reject` throws `QueueFullError` at the newcomer; `drop_oldest` evicts the longest-waiting task;
   * `drop_lowest_priority` evicts the newest task of the lowest waiting level when it ranks at or
   * below the newcomer, and otherwise rejects the newcomer. Evicted tasks end `dropped`.
   * @default 'reject'
   */
  overflow?: OverflowPolicy
  /**
   * Default deadline in milliseconds, measured from the moment a task starts running. A task can set
   * its own; `Infinity` turns the deadline off and must be asked for by name.
   * @default 30_000
   */
  timeout?: number
  /**
   * Milliseconds an aborted task may take to settle before it is flagged `leaked`.
   * @default 5_000
   */
  abortGrace?: number
  /**
   * Given-up tasks (aborted by deadline, cancel or shutdown, function not settled yet) tracked per task
   * name. They hold no concurrency slot; they stay visible as `aborting`, then `leaked`. When a name
   * has this many, its oldest is released (ends in its terminal state with `release: 'evicted'`) to
   * make room. Calls in flight that the scheduler knows of, per name, are at most `concurrency` plus
   * this. `0` releases a task the moment it is given up.
   * @default 1_000
   */
  maxGivenUpPerName?: number
  /**
   * Given-up tasks tracked in all, over every name (names are unbounded input; this bounds memory).
   * When reached, the oldest given-up task of any name is released (`release: 'evicted'`).
   * @default 10_000
   */
  maxGivenUp?: number
  /**
   * Milliseconds a given-up task stays tracked if its function never settles; then it ends in its
   * terminal state with `release: 'expired'`, so every `settled` resolves in bounded time. `Infinity`
   * keeps it until it settles, is evicted or the scheduler closes.
   * @default 600_000 (10 minutes)
   */
  givenUpTtl?: number
  /**
   * A running task that has not called `progress()` (nor started) for this many milliseconds is
   * flagged `stuck` in snapshots.
   * @default 60_000
   */
  stuckAfter?: number
  /**
   * A waiting task climbs one priority level per `agingInterval` milliseconds of waiting, so `low`
   * work never starves behind a steady stream of `high`.
   * @default 2_000
   */
  agingInterval?: number
  /**
   * Terminated tasks kept for inspection (a ring; the oldest entry is overwritten).
   * @default 1_000
   */
  historySize?: number
  /**
   * `sampled` records the exact caller of `spawn` for the first 8 spawns of each task name and then
   * for one in 256 (at most one a second per name), attributing the others to the name's latest
   * sampled site; `always` captures every
   * spawn (several times a spawn's own cost and memory; `pnpm bench` measures it); `off` records nothing.
   * @default 'sampled'
   */
  spawnSite?: SpawnSiteMode
  /**
   * Path fragments of stack frames to skip when resolving a spawn site, so a wrapper around `spawn`
   * (a plugin, your own helper) is not reported as the site. Frames of this package, of Node's
   * internals and under `node_modules/` are always skipped.
   * @default []
   */
  siteIgnore?: readonly string[]
  /**
   * Seconds suggested to refused callers (`AdmissionError.retryAfter`, the `Retry-After` header).
   * @default 1
   */
  retryAfter?: number
  /** Asked before each spawn; `false` refuses the task with reason `overloaded`, `'defer'` queues it. */
  admission?: AdmissionCheck
  /** Asked before a waiting task starts; `false` holds the queue until `recheckStartGate()`. */
  startGate?: StartGate
  /** Source of time and timers. @default systemClock */
  clock?: Clock
  /**
   * Called when a lifecycle listener (or the `admission` check, which then admits) throws. The
   * scheduler carries on either way.
   * @default emits a process warning
   */
  onListenerError?: (error: unknown, event: LifecycleEvent | 'admission') => void
}

/** What a subclass of `Scheduler` passes to `spawnTrusted`: built and vouched for by it, not checked again. */
export interface TrustedSpawnFields {
  readonly labels?: Readonly<Record<string, string>> | undefined
  readonly meta?: Readonly<Record<string, string | number | boolean>> | undefined
  readonly data?: unknown
}

/** Options accepted by `spawn`. */
export interface SpawnOptions {
  /** Deadline in milliseconds from start; `Infinity` for none. @default the scheduler's `timeout` */
  timeout?: number
  /**
   * Milliseconds before the task may start: until then it is `pending` (counted in `maxQueue`, shown
   * as delayed) and holds no slot; then it queues like any task. Lost at close, like queued tasks.
   * @default 0
   */
  delay?: number
  /** @default 'normal' */
  priority?: Priority
  /** Deduplication key: at most one live task per key. */
  key?: string
  /**
   * With a `key` that already has a live task: `join` returns that task's handle and does not run
   * `fn` (this call's other options are ignored); `replace` cancels it (reason `superseded`) and
   * spawns this one, and leaves it alone if this one is refused. A task already `aborting` no longer
   * holds its key: both modes spawn a new task.
   * @default 'join'
   */
  onDuplicate?: 'join' | 'replace'
  /**
   * Low-cardinality labels (route, tenant tier…): used to group live tasks and to cancel by
   * predicate. Never put ids here; use `meta`.
   */
  labels?: Readonly<Record<string, string>>
  /** Free-form facts shown per task (request id…), never used for grouping. */
  meta?: Readonly<Record<string, string | number | boolean>>
  /**
   * An opaque value for your own lifecycle listeners (a logger, say). Never shown in snapshots,
   * never serialized.
   */
  data?: unknown
}

export const DEFAULTS = Object.freeze({
  concurrency: 1_000,
  maxQueue: 10_000,
  overflow: 'reject',
  timeout: 30_000,
  abortGrace: 5_000,
  maxGivenUpPerName: 1_000,
  maxGivenUp: 10_000,
  givenUpTtl: 600_000,
  stuckAfter: 60_000,
  agingInterval: 2_000,
  historySize: 1_000,
  spawnSite: 'sampled',
  retryAfter: 1,
} as const satisfies Partial<SchedulerOptions>)

const OVERFLOW_POLICIES: readonly OverflowPolicy[] = ['reject', 'drop_oldest', 'drop_lowest_priority']
const SPAWN_SITE_MODES: readonly SpawnSiteMode[] = ['sampled', 'always', 'off']
const SCHEDULER_KEYS = new Set<string>([
  'concurrency',
  'limits',
  'maxQueue',
  'overflow',
  'timeout',
  'abortGrace',
  'maxGivenUpPerName',
  'maxGivenUp',
  'givenUpTtl',
  'stuckAfter',
  'agingInterval',
  'historySize',
  'spawnSite',
  'siteIgnore',
  'retryAfter',
  'admission',
  'startGate',
  'clock',
  'onListenerError',
  'tasks',
  'compileSchema',
  'backend',
])
const SPAWN_KEYS = new Set<string>(['timeout', 'delay', 'priority', 'key', 'onDuplicate', 'labels', 'meta', 'data'])
/** The longest `delay` (Node's timers fire at once past 2^31 - 1 ms). */
const MAX_DELAY = { max: 2_147_483_647 } as const
const DUPLICATE_MODES = ['join', 'replace'] as const
const ANY_DURATION: DurationBounds = { infinity: true }
const NON_EMPTY = { minLength: 1 } as const

/** Options after defaults and validation. */
export interface ResolvedOptions {
  concurrency: number
  limits: ResolvedLimitsOptions
  maxQueue: number
  overflow: OverflowPolicy
  timeout: number
  abortGrace: number
  maxGivenUpPerName: number
  maxGivenUp: number
  givenUpTtl: number
  stuckAfter: number
  agingInterval: number
  historySize: number
  spawnSite: SpawnSiteMode
  siteIgnore: readonly string[]
  retryAfter: number
  admission: AdmissionCheck | undefined
  startGate: StartGate | undefined
  onListenerError: ListenerErrorHandler | undefined
  tasks: TaskRegistry
  backend: TaskBackend | undefined
}

type ListenerErrorHandler = (error: unknown, event: LifecycleEvent | 'admission') => void

/** Validates scheduler options and fills in defaults. */
export function resolveOptions(options: SchedulerOptions | undefined): ResolvedOptions & { clock: Clock | undefined } {
  const o = options === undefined ? {} : checkObject('options', options)
  checkKnownKeys('options', o, SCHEDULER_KEYS)
  const get = (key: string): unknown => o[key]
  const orDefault = <T>(key: string, fallback: T): unknown => (get(key) === undefined ? fallback : get(key))
  const siteIgnore = checkArray('siteIgnore', orDefault('siteIgnore', []), {
    of: 'non-empty strings',
    every: (s) => typeof s === 'string' && s.length > 0,
  })
  const admission =
    get('admission') === undefined ? undefined : checkFunction<AdmissionCheck>('admission', get('admission'), '(request) => boolean')
  const startGate =
    get('startGate') === undefined ? undefined : checkFunction<StartGate>('startGate', get('startGate'), '(priority) => boolean')
  const onListenerError =
    get('onListenerError') === undefined
      ? undefined
      : checkFunction<ListenerErrorHandler>('onListenerError', get('onListenerError'), '(error, event) => void')
  const clock = get('clock')
  if (
    clock !== undefined &&
    (typeof clock !== 'object' ||
      clock === null ||
      typeof (clock as Clock).now !== 'function' ||
      typeof (clock as Clock).setTimeout !== 'function' ||
      typeof (clock as Clock).clearTimeout !== 'function')
  ) {
    throw new InvalidOptionError('clock', 'an object with now(), setTimeout() and clearTimeout()', clock)
  }
  const retryAfter = checkNumber('retryAfter', orDefault('retryAfter', DEFAULTS.retryAfter), { min: 0, unit: 'seconds' })
  return {
    concurrency: checkInteger('concurrency', orDefault('concurrency', DEFAULTS.concurrency), { min: 1 }),
    limits: resolveLimitsOptions(get('limits')),
    maxQueue: checkInteger('maxQueue', orDefault('maxQueue', DEFAULTS.maxQueue), { min: 0 }),
    overflow: checkOneOf('overflow', orDefault('overflow', DEFAULTS.overflow), OVERFLOW_POLICIES),
    timeout: checkDuration('timeout', orDefault('timeout', DEFAULTS.timeout), { infinity: true }),
    abortGrace: checkDuration('abortGrace', orDefault('abortGrace', DEFAULTS.abortGrace)),
    maxGivenUpPerName: checkInteger('maxGivenUpPerName', orDefault('maxGivenUpPerName', DEFAULTS.maxGivenUpPerName), {
      min: 0,
      max: 1_000_000,
    }),
    maxGivenUp: checkInteger('maxGivenUp', orDefault('maxGivenUp', DEFAULTS.maxGivenUp), { min: 0, max: 10_000_000 }),
    givenUpTtl: checkDuration('givenUpTtl', orDefault('givenUpTtl', DEFAULTS.givenUpTtl), { infinity: true }),
    stuckAfter: checkDuration('stuckAfter', orDefault('stuckAfter', DEFAULTS.stuckAfter), { infinity: true }),
    agingInterval: checkDuration('agingInterval', orDefault('agingInterval', DEFAULTS.agingInterval), { above: 0, infinity: true }),
    historySize: checkInteger('historySize', orDefault('historySize', DEFAULTS.historySize), { min: 0, max: 1_000_000 }),
    spawnSite: checkOneOf('spawnSite', orDefault('spawnSite', DEFAULTS.spawnSite), SPAWN_SITE_MODES),
    siteIgnore: Object.freeze([...(siteIgnore as string[])]),
    retryAfter,
    admission,
    startGate,
    onListenerError,
    tasks: new TaskRegistry(
      checkArray('tasks', orDefault('tasks', []), { of: 'task definitions' }),
      get('compileSchema') === undefined
        ? undefined
        : checkFunction<SchemaCompiler>('compileSchema', get('compileSchema'), '(schema, task) => validator'),
    ),
    backend: checkBackend(get('backend')),
    clock: clock as Clock | undefined,
  }
}

const BACKEND_METHODS = [
  'attach',
  'enqueue',
  'cancel',
  'connected',
  'jobCounts',
  'watch',
  'pauseConsuming',
  'stopConsuming',
  'close',
] as const

function checkBackend(backend: unknown): TaskBackend | undefined {
  if (backend === undefined) return undefined
  const b = checkObject('backend', backend)
  const missing = BACKEND_METHODS.find((method) => typeof b[method] !== 'function')
  if (typeof b['kind'] !== 'string' || b['kind'].length === 0 || missing !== undefined) {
    throw new InvalidOptionError('backend', `a task backend (a kind and the methods ${BACKEND_METHODS.join(', ')})`, backend)
  }
  return backend as TaskBackend
}

/** Spawn options after validation. `timeout` is `undefined` when the scheduler default applies. */
export interface ResolvedSpawnOptions {
  timeout: number | undefined
  /** `undefined` for none (or 0). */
  delay: number | undefined
  priority: Priority
  key: string | undefined
  onDuplicate: 'join' | 'replace'
  labels: Readonly<Record<string, string>> | undefined
  meta: Readonly<Record<string, string | number | boolean>> | undefined
  data: unknown
}

/** Validates the options of one `spawn` call. */
export function resolveSpawnOptions(options: unknown): ResolvedSpawnOptions {
  // Runs on every spawn with options: the shared checks get constant arguments (no allocation per
  // call), and the per-label and per-meta checks stay written out (a name built per entry would be).
  const o = checkObject('spawn(options)', options)
  checkKnownKeys('spawn(options)', o, SPAWN_KEYS)
  const { timeout, delay, priority, key, onDuplicate, labels, meta, data } = o
  if (key !== undefined) checkString('spawn(options.key)', key, NON_EMPTY)
  if (labels !== undefined) {
    const l = checkObject('spawn(options.labels)', labels)
    const keys = Object.keys(l)
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!
      if (typeof l[k] !== 'string') throw new InvalidOptionError(`spawn(options.labels.${k})`, 'a string', l[k])
    }
  }
  if (meta !== undefined) {
    const m = checkObject('spawn(options.meta)', meta)
    const keys = Object.keys(m)
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!
      const v = m[k]
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        throw new InvalidOptionError(`spawn(options.meta.${k})`, 'a string, number or boolean', v)
      }
    }
  }
  return {
    timeout: timeout === undefined ? undefined : checkDuration('spawn(options.timeout)', timeout, ANY_DURATION),
    delay: delay === undefined ? undefined : checkDuration('spawn(options.delay)', delay, MAX_DELAY) || undefined,
    priority: priority === undefined ? 'normal' : checkOneOf('spawn(options.priority)', priority, PRIORITIES),
    key: key as string | undefined,
    onDuplicate: onDuplicate === undefined ? 'join' : checkOneOf('spawn(options.onDuplicate)', onDuplicate, DUPLICATE_MODES),
    labels: labels as ResolvedSpawnOptions['labels'],
    meta: meta as ResolvedSpawnOptions['meta'],
    data,
  }
}
