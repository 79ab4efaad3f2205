/**
 * Every error the scheduler throws or hands out, in one table.
 *
 * Each error has a stable `code` (documented in `docs/reference/errors.md`; a test keeps the two in
 * sync) and an HTTP `statusCode`, so the layers above can answer a request without guessing.
 */

/** Why `spawn` refused a task. */
export type RejectReason = 'queue_full' | 'overloaded' | 'closing'

/**
 * Why a task's signal was aborted. `timeout` is the scheduler's own; the others say who cancelled
 * (`caller`, the default of `cancel()`: the code that holds the handle or the id).
 */
export type AbortReason = 'timeout' | 'caller' | 'shutdown' | 'superseded' | 'operator'

/** The error table: code → HTTP status and a one-line meaning. */
export const ERROR_CODES = {
  FT_QUEUE_FULL: { statusCode: 503, meaning: 'The queue is at `maxQueue` and the overflow policy refused the task.' },
  FT_OVERLOADED: { statusCode: 503, meaning: 'The admission check reported overload and refused the task.' },
  FT_CLOSING: { statusCode: 503, meaning: 'The scheduler is closing or closed and accepts no new tasks.' },
  FT_INVALID_OPTION: { statusCode: 500, meaning: 'An option or argument had the wrong type or value.' },
  FT_TASK_ABORTED: { statusCode: 500, meaning: "The reason on an aborted task's signal: timeout, cancellation or shutdown." },
} as const satisfies Record<string, { statusCode: number; meaning: string }>

/** A code from {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES

/** Base class of every error the scheduler creates. */
export abstract class TasksError extends Error {
  /** Stable machine-readable code, listed in {@link ERROR_CODES}. */
  abstract readonly code: ErrorCode
  /** HTTP status a server should answer with when this error escapes a request handler. */
  get statusCode(): number {
    return ERROR_CODES[this.code].statusCode
  }
}

/**
 * Thrown by `spawn` when a task is not admitted. Always HTTP 503; `retryAfter` is a hint in seconds
 * for the `Retry-After` header.
 */
export abstract class AdmissionError extends TasksError {
  abstract readonly reason: RejectReason
  /** The name of the task that was refused. */
  readonly task: string
  /** Seconds a client should wait before trying again. */
  readonly retryAfter: number
  /**
   * Response headers for a server that lets this error escape a request handler (Fastify applies an
   * error's `headers`): `Retry-After`.
   */
  readonly headers: { readonly 'retry-after': string }
  constructor(message: string, task: string, retryAfter: number) {
    super(message)
    this.task = task
    this.retryAfter = retryAfter
    this.headers = { 'retry-after': String(Math.ceil(retryAfter)) }
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
    super(
      reason === 'timeout'
        ? `Task "${task}" exceeded its deadline`
        : `Task "${task}" was aborted (reason: ${reason})`,
    )
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
