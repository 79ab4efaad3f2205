/**
 * Every error the scheduler throws or hands out.
 *
 * Each error has a stable `code` (an {@link ErrorCode}). The core knows nothing of HTTP: the HTTP
 * status of each code, and the code's meaning, are in the suite's one error table, `ERROR_CODES` of
 * `fastify-tasks`, and in `docs/reference/errors.md` (a test keeps the two in sync).
 */

/** Why `spawn` refused a task. */
export type RejectReason = 'queue_full' | 'overloaded' | 'closing'

/**
 * Why a task's signal was aborted. `timeout` is the scheduler's own; the others say who cancelled
 * (`caller`, the default of `cancel()`: the code that holds the handle or the id).
 */
export type AbortReason = 'timeout' | 'caller' | 'shutdown' | 'superseded' | 'operator'

/**
 * The `code` of an error the scheduler creates: `FT_QUEUE_FULL`, `FT_OVERLOADED`, `FT_CLOSING`
 * (the {@link AdmissionError}s), `FT_INVALID_OPTION` and `FT_TASK_ABORTED`. Stable: match on it, not on
 * the message. What each means is in `docs/reference/errors.md`.
 */
export type ErrorCode = 'FT_QUEUE_FULL' | 'FT_OVERLOADED' | 'FT_CLOSING' | 'FT_INVALID_OPTION' | 'FT_TASK_ABORTED'

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
  /** One of the three refusal codes, matching `reason`. */
  abstract override readonly code: 'FT_QUEUE_FULL' | 'FT_OVERLOADED' | 'FT_CLOSING'
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
