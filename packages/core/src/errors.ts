/**
 * Every error the scheduler throws or hands out.
 *
 * Each error has a stable `code` (an {@link ErrorCode}). The core knows nothing of HTTP: the HTTP
 * status of each code, and the code's meaning, are in the suite's one error table, `ERROR_CODES` of
 * `fastify-tasks`, and in `docs/reference/errors.md` (a test keeps the two in sync).
 */

/** Why `spawn` refused a task. */
export type RejectReason = 'queue_full' | 'overloaded' | 'closing' | 'unavailable'

/**
 * Why a task's signal was aborted. `timeout` is the scheduler's own; the others say who cancelled
 * (`caller`, the default of `cancel()`: the code that holds the handle or the id).
 */
export type AbortReason = 'timeout' | 'caller' | 'shutdown' | 'superseded' | 'operator'

/**
 * The `code` of an error the scheduler creates: `FT_QUEUE_FULL`, `FT_OVERLOADED`, `FT_CLOSING`
 * (the {@link AdmissionError}s), `FT_INVALID_OPTION`, `FT_TASK_ABORTED`, and for named tasks
 * `FT_UNKNOWN_TASK`, `FT_INVALID_PAYLOAD`, `FT_PAYLOAD_TOO_LARGE` and `FT_INVALID_RESULT`, and on a durable
 * backend `FT_BACKEND_UNAVAILABLE` (an {@link AdmissionError} too) and `FT_NOT_DURABLE`. Stable:
 * match on it, not on the message. What each means is in `docs/reference/errors.md`.
 */
export type ErrorCode =
  | 'FT_QUEUE_FULL'
  | 'FT_OVERLOADED'
  | 'FT_CLOSING'
  | 'FT_INVALID_OPTION'
  | 'FT_TASK_ABORTED'
  | 'FT_UNKNOWN_TASK'
  | 'FT_INVALID_PAYLOAD'
  | 'FT_PAYLOAD_TOO_LARGE'
  | 'FT_INVALID_RESULT'
  | 'FT_BACKEND_UNAVAILABLE'
  | 'FT_NOT_DURABLE'

/** Base class of every error the scheduler creates. */
export abstract class TasksError extends Error {
  /** Stable machine-readable code: one of {@link ErrorCode}. */
  abstract readonly code: ErrorCode
}

/**
 * Thrown by `spawn` when a task is not admitted; `reason` says why. `retryAfter` is a hint, in
 * seconds, of when to try again (a server turns it into a `Retry-After` header: fastify-tasks does).
 */
export abstract class AdmissionError extends TasksError {
  /** One of the refusal codes, matching `reason`. */
  abstract override readonly code: 'FT_QUEUE_FULL' | 'FT_OVERLOADED' | 'FT_CLOSING' | 'FT_BACKEND_UNAVAILABLE'
  abstract readonly reason: RejectReason
  /** The name of the task that was refused. */
  readonly task: string
  /** Seconds a caller should wait before trying again (the `retryAfter` option). */
  readonly retryAfter: number
  constructor(message: string, task: string, retryAfter: number) {
    super(message)
    this.task = task
    this.retryAfter = retryAfter
  }
}

/** The queue is full and the overflow policy refused the task. */
export class QueueFullError extends AdmissionError {
  override readonly name = 'QueueFullError'
  readonly code = 'FT_QUEUE_FULL'
  readonly reason = 'queue_full'
  constructor(task: string, maxQueue: number, retryAfter: number) {
    super(`Task "${task}" was not admitted (queue_full): the queue is full (maxQueue ${maxQueue})`, task, retryAfter)
  }
}

/** The admission check reported overload. */
export class OverloadedError extends AdmissionError {
  override readonly name = 'OverloadedError'
  readonly code = 'FT_OVERLOADED'
  readonly reason = 'overloaded'
  constructor(task: string, priority: string, retryAfter: number) {
    super(`Task "${task}" (priority ${priority}) was not admitted (overloaded): the process is overloaded`, task, retryAfter)
  }
}

/** The scheduler is closing or closed. */
export class ClosingError extends AdmissionError {
  override readonly name = 'ClosingError'
  readonly code = 'FT_CLOSING'
  readonly reason = 'closing'
  constructor(task: string, retryAfter: number) {
    super(`Task "${task}" was not admitted (closing): the scheduler is closing`, task, retryAfter)
  }
}

/**
 * A durable backend did not acknowledge a task in time (its broker is down, slow or refused it): the
 * task was not persisted. The rejection of `handle.admitted`, never thrown by `spawn` itself
 * (admission on a durable backend is asynchronous). `cause` is the backend's own error.
 */
export class BackendUnavailableError extends AdmissionError {
  override readonly name = 'BackendUnavailableError'
  readonly code = 'FT_BACKEND_UNAVAILABLE'
  readonly reason = 'unavailable'
  /** The backend's kind, e.g. `bullmq`. */
  readonly backend: string
  /** `what` says what was not done, when it is not a spawn (`Schedule "nightly" was not kept`). */
  constructor(task: string, backend: string, retryAfter: number, cause: unknown, what = `Task "${task}" was not admitted`) {
    super(`${what} (unavailable): the ${backend} backend did not acknowledge it (${causeText(cause)})`, task, retryAfter)
    this.backend = backend
    this.cause = cause
  }
}

/**
 * A task was spawned with a function on a durable backend. A function cannot be persisted nor run by
 * another process: define the task with `defineTask` and spawn its definition with a JSON payload.
 */
export class NotDurableError extends TasksError {
  override readonly name = 'NotDurableError'
  readonly code = 'FT_NOT_DURABLE'
  readonly task: string
  constructor(task: string, backend: string, what = 'a function') {
    super(
      `Task "${task}" cannot be spawned with ${what} on the ${backend} backend, which persists tasks by name: ` +
        'define it with defineTask() and spawn the definition with a JSON payload',
    )
    this.task = task
  }
}

/** An option or argument was wrong. The message names it, says what was expected and what arrived. */
export class InvalidOptionError extends TasksError {
  override readonly name = 'InvalidOptionError'
  readonly code = 'FT_INVALID_OPTION'
  /** The option or argument, e.g. `concurrency` or `spawn(options.timeout)`. */
  readonly option: string
  readonly expected: string
  readonly received: string
  constructor(option: string, expected: string, received: unknown) {
    const shown = describeValue(received)
    super(`Invalid ${option}: expected ${expected}, received ${shown}`)
    this.option = option
    this.expected = expected
    this.received = shown
  }
}

/**
 * A named task was spawned whose definition the scheduler does not know: it was not passed in the
 * `tasks` option (of the scheduler, or of the fastify-tasks plugin), or another definition of the same
 * name was. A consumer on a durable backend must know every definition it runs, so spawning requires
 * the same registration on every backend.
 */
export class UnknownTaskError extends TasksError {
  override readonly name = 'UnknownTaskError'
  readonly code = 'FT_UNKNOWN_TASK'
  readonly task: string
  constructor(task: string, detail: string) {
    super(`Task "${task}" is not registered: ${detail}`)
    this.task = task
  }
}

/**
 * A named task's payload was refused: it is not plain JSON (`path` says where, as in
 * `payload.createdAt`), or it does not match the definition's schema. Thrown by `spawn`, at the call
 * site, before anything is queued; also the error of a task whose payload no longer matched its
 * definition when it started (`at: 'start'`: a rolling deploy may run a newer definition).
 */
export class InvalidPayloadError extends TasksError {
  override readonly name = 'InvalidPayloadError'
  readonly code = 'FT_INVALID_PAYLOAD'
  readonly task: string
  /** Where the payload is wrong (`payload.items[2]`), or `payload` for the whole. */
  readonly path: string
  /** What is wrong there. */
  readonly problem: string
  /** `spawn`: refused at the call site. `start`: the task failed with it when it started. */
  readonly at: 'spawn' | 'start'
  constructor(task: string, path: string, problem: string, at: 'spawn' | 'start') {
    super(`Invalid payload for task "${task}"${at === 'start' ? ' (when it started)' : ''}: ${path} ${problem}`)
    this.task = task
    this.path = path
    this.problem = problem
    this.at = at
  }
}

/** A named task's payload, as JSON, is longer than its definition's `maxPayloadBytes`. */
export class PayloadTooLargeError extends TasksError {
  override readonly name = 'PayloadTooLargeError'
  readonly code = 'FT_PAYLOAD_TOO_LARGE'
  readonly task: string
  /** The payload's size as JSON, in UTF-8 bytes (a lower bound when the message says "at least"). */
  readonly bytes: number
  readonly maxPayloadBytes: number
  /** `exact`: `bytes` is the payload's size; otherwise a lower bound (writing stopped once past the limit). */
  constructor(task: string, bytes: number, maxPayloadBytes: number, exact = true) {
    super(
      `Payload of task "${task}" is ${exact ? '' : 'at least '}${bytes} bytes as JSON, more than its maxPayloadBytes (${maxPayloadBytes}): ` +
        'pass ids and fetch the data in the task, or raise maxPayloadBytes in its definition',
    )
    this.task = task
    this.bytes = bytes
    this.maxPayloadBytes = maxPayloadBytes
  }
}

/**
 * A named task's `run` returned a value that is not plain JSON (`path` says where): the task fails
 * with this error, as its result could not cross to another process unchanged.
 */
export class InvalidResultError extends TasksError {
  override readonly name = 'InvalidResultError'
  readonly code = 'FT_INVALID_RESULT'
  readonly task: string
  readonly path: string
  readonly problem: string
  constructor(task: string, path: string, problem: string) {
    super(`Result of task "${task}" is not JSON: ${path} ${problem}`)
    this.task = task
    this.path = path
    this.problem = problem
  }
}

/**
 * The `reason` of an aborted task's `AbortSignal`. `reason` tells why (and who cancelled):
 * `timeout`, `caller`, `shutdown`, `superseded` or `operator`.
 */
export class TaskAbortedError extends TasksError {
  override readonly name: 'TimeoutError' | 'AbortError'
  readonly code = 'FT_TASK_ABORTED'
  readonly reason: AbortReason
  readonly task: string
  constructor(task: string, reason: AbortReason) {
    super(reason === 'timeout' ? `Task "${task}" exceeded its deadline` : `Task "${task}" was aborted (reason: ${reason})`)
    this.name = reason === 'timeout' ? 'TimeoutError' : 'AbortError'
    this.reason = reason
    this.task = task
  }
}

/** An error's message, shortened, for another error's message. */
function causeText(cause: unknown): string {
  let text: string
  try {
    text = cause instanceof Error ? cause.message : String(cause)
  } catch {
    text = 'an unprintable error'
  }
  return text.length > 200 ? `${text.slice(0, 197)}...` : text
}

/** A short, safe rendering of a received value for error messages (never the whole object). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'string': {
      const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value
      return `${JSON.stringify(shown)} (string)`
    }
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return `${String(value)} (${typeof value})`
    case 'function':
      return 'a function'
    case 'symbol':
      return 'a symbol'
    default:
      return Array.isArray(value) ? 'an array' : 'an object'
  }
}
