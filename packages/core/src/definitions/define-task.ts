import { InvalidOptionError } from '../errors.js'
import { resolveBackoff, type Backoff, type BackoffOptions } from './backoff.js'
import { PRIORITIES, type Priority } from '../priority.js'
import type { TaskContext } from '../task.js'
import { checkDuration, checkFunction, checkInteger, checkKnownKeys, checkObject, checkOneOf, checkString } from '../validation.js'

/**
 * A JSON schema of a named task's payload. Any JSON schema object; a TypeBox schema (whose type
 * carries `static`) also types the payload, so `run` and `spawn` need no annotation.
 */
export interface PayloadSchema<P = unknown> {
  /** The payload type of a TypeBox schema (a type-level field: never read). */
  readonly static?: P
  readonly [keyword: string]: unknown
}

/** What {@link defineTask} is given. */
export interface TaskSpec<P = unknown, R = unknown, C extends TaskContext = TaskContext> {
  /**
   * The work. `payload` is a fresh copy parsed from JSON, validated against `payload`'s schema; the
   * value returned (or resolved) is the task's result, and must be JSON too (`undefined` for none).
   */
  readonly run: (payload: P, context: C) => R | PromiseLike<R>
  /**
   * A JSON schema the payload must match, checked at `spawn` (a bad payload throws there, at the
   * call site) and again when the task starts (a rolling deploy may run a newer definition). Without
   * one, any JSON payload is accepted. The scheduler compiles it with its `compileSchema` (fastify-tasks
   * uses Fastify's own validator, Ajv, strictly: no coercion, no defaults, nothing removed).
   */
  readonly payload?: PayloadSchema<P>
  /** The deadline of each task of this definition unless `spawn` says otherwise. @default the scheduler's `timeout` */
  readonly timeout?: number
  /** Its priority unless `spawn` says otherwise. @default 'normal' */
  readonly priority?: Priority
  /**
   * Largest payload accepted, in UTF-8 bytes of its JSON. Payloads are for ids and small data: a
   * durable backend keeps every queued one in its store.
   * @default 65_536 (64 KiB)
   */
  readonly maxPayloadBytes?: number
  /**
   * Attempts after the first when `run` fails (throws or rejects), each after a wait (`backoff`)
   * during which the task is `pending` and holds no slot. A task past its deadline (`timed_out`) or
   * cancelled is not retried, nor one whose payload or result was refused: only failures.
   * @default 0
   */
  readonly retries?: number
  /** The wait between attempts. @default { type: 'exponential', delay: 1_000, maxDelay: 300_000 } */
  readonly backoff?: BackoffOptions
}

/**
 * A named task: its name, its payload's schema and its defaults, made by {@link defineTask}. Spawn it
 * with `scheduler.spawn(definition, payload)` once it is registered (the `tasks` option). Frozen.
 */
export interface TaskDefinition<P = unknown, R = unknown, C extends TaskContext = TaskContext> {
  readonly name: string
  readonly run: (payload: P, context: C) => R | PromiseLike<R>
  /** The payload's JSON schema, as given; `undefined` for none. */
  readonly payload: object | undefined
  readonly timeout: number | undefined
  readonly priority: Priority
  readonly maxPayloadBytes: number
  readonly retries: number
  readonly backoff: Backoff
}

/** Any task definition, whatever its payload, result and context (what `tasks` options hold). */
export type AnyTaskDefinition = TaskDefinition<never, unknown, never>

export const DEFAULT_MAX_PAYLOAD_BYTES = 65_536
/** Redis's largest string. */
const MAX_PAYLOAD_BYTES_LIMIT = 512 * 1024 * 1024
const SPEC_KEYS = ['run', 'payload', 'timeout', 'priority', 'maxPayloadBytes', 'retries', 'backoff'] as const
const MAX_RETRIES = 1_000
const NON_EMPTY = { minLength: 1 }
const ANY_DURATION = { infinity: true }

/** The definitions {@link defineTask} made (what `spawn` and `tasks` accept as one). */
const made = new WeakSet<object>()

/**
 * Defines a named task: a name, a `run(payload, context)` function and its defaults. The same
 * definition runs on every backend (in memory by default; durable ones run it in other processes),
 * so its payload and result are JSON everywhere, validated at spawn.
 *
 * ```ts
 * export const sendConfirmation = defineTask('send-confirmation', {
 *   payload: { type: 'object', required: ['orderId'], properties: { orderId: { type: 'string' } } },
 *   timeout: 5_000,
 *   run: async ({ orderId }: { orderId: string }, { signal }) => mailer.send(orderId, { signal }),
 * })
 * ```
 *
 * Throws `InvalidOptionError` naming the field (`defineTask("send-confirmation").timeout`) when the
 * spec is wrong.
 */
export function defineTask<P = unknown, R = unknown, C extends TaskContext = TaskContext>(
  name: string,
  spec: TaskSpec<P, R, C>,
): TaskDefinition<P, Awaited<R>, C> {
  checkString('defineTask(name)', name, NON_EMPTY)
  const at = (key: string): string => `defineTask(${JSON.stringify(name)}).${key}`
  const s = checkObject(`defineTask(${JSON.stringify(name)}, spec)`, spec) as Partial<TaskSpec<P, R, C>>
  checkKnownKeys(`defineTask(${JSON.stringify(name)}, spec)`, s, SPEC_KEYS)
  const run = checkFunction<TaskSpec<P, R, C>['run']>(at('run'), s.run, '(payload, context) => result')
  const payload: unknown = s.payload
  if (payload !== undefined && (typeof payload !== 'object' || payload === null || Array.isArray(payload))) {
    throw new InvalidOptionError(at('payload'), 'a JSON schema object', payload)
  }
  if (s.backoff !== undefined && (s.retries === undefined || s.retries === 0)) {
    throw new InvalidOptionError(at('backoff'), 'retries >= 1 next to it (a backoff without retries would do nothing)', s.backoff)
  }
  const definition: TaskDefinition<P, Awaited<R>, C> = Object.freeze({
    name,
    run: run as TaskDefinition<P, Awaited<R>, C>['run'],
    payload: payload,
    timeout: s.timeout === undefined ? undefined : checkDuration(at('timeout'), s.timeout, ANY_DURATION),
    priority: s.priority === undefined ? 'normal' : checkOneOf(at('priority'), s.priority, PRIORITIES),
    maxPayloadBytes:
      s.maxPayloadBytes === undefined
        ? DEFAULT_MAX_PAYLOAD_BYTES
        : checkInteger(at('maxPayloadBytes'), s.maxPayloadBytes, { min: 1, max: MAX_PAYLOAD_BYTES_LIMIT, unit: 'bytes' }),
    retries: s.retries === undefined ? 0 : checkInteger(at('retries'), s.retries, { min: 0, max: MAX_RETRIES }),
    backoff: resolveBackoff(at('backoff'), s.backoff),
  })
  made.add(definition)
  return definition
}

/** Whether `value` is a definition made by {@link defineTask}. */
export function isTaskDefinition(value: unknown): value is AnyTaskDefinition {
  return typeof value === 'object' && value !== null && made.has(value)
}
