import { AdmissionError, type ErrorCode as CoreErrorCode } from '@fastify-tasks/core'
import { createError } from '@fastify/error'

/** A row of {@link ERROR_CODES}: the HTTP status an error answers with, and what it means. */
interface ErrorTableEntry {
  /** The HTTP status of a response to a request this error escaped from. */
  readonly statusCode: number
  /** One line on what happened. */
  readonly meaning: string
}

/**
 * Every error code of the suite, in one table: code → HTTP status and a one-line meaning. It holds
 * the scheduler's codes (`@fastify-tasks/core` has the classes, but nothing of HTTP) and the plugin's.
 * The plugin's own errors take their status from here; `docs/reference/errors.md` lists every code
 * (a test keeps them in sync). A code of the core missing here is a type error.
 */
export const ERROR_CODES = {
  // The scheduler's (`@fastify-tasks/core`).
  FT_QUEUE_FULL: { statusCode: 503, meaning: 'The queue is at `maxQueue` and the overflow policy refused the task.' },
  FT_OVERLOADED: { statusCode: 503, meaning: 'The admission check reported overload and refused the task.' },
  FT_CLOSING: { statusCode: 503, meaning: 'The scheduler is closing or closed and accepts no new tasks.' },
  FT_INVALID_OPTION: { statusCode: 500, meaning: 'An option or argument had the wrong type or value.' },
  FT_TASK_ABORTED: { statusCode: 500, meaning: "The reason on an aborted task's signal: timeout, cancellation or shutdown." },
  FT_UNKNOWN_TASK: { statusCode: 500, meaning: 'A named task was spawned whose definition is not in the `tasks` option.' },
  FT_INVALID_PAYLOAD: {
    statusCode: 500,
    meaning: "A named task's payload is not plain JSON or does not match its schema (at spawn, or when it started).",
  },
  FT_PAYLOAD_TOO_LARGE: { statusCode: 500, meaning: "A named task's payload, as JSON, is over its definition's `maxPayloadBytes`." },
  FT_INVALID_RESULT: { statusCode: 500, meaning: "A named task's `run` returned a value that is not plain JSON; the task failed." },
  FT_BACKEND_UNAVAILABLE: {
    statusCode: 503,
    meaning: 'A durable backend did not acknowledge a spawned task in time (`handle.admitted` rejected): it was not persisted.',
  },
  FT_NOT_DURABLE: { statusCode: 500, meaning: 'A task was spawned with a function on a durable backend, which runs named tasks only.' },
  // The plugin's.
  FT_ALREADY_REGISTERED: { statusCode: 500, meaning: 'fastify-tasks was registered twice on one Fastify instance.' },
  FT_DECORATOR_TAKEN: { statusCode: 500, meaning: 'Another plugin already decorated the app or its requests with `tasks`.' },
  FT_OVERLOADED_REQUEST: {
    statusCode: 503,
    meaning: 'A request arrived while the event loop was overloaded and its route is not marked essential.',
  },
  FT_DEBUG_FORBIDDEN: { statusCode: 403, meaning: 'A debug route was asked for by a peer that is not on the loopback interface.' },
  FT_DEBUG_UNAUTHORIZED: { statusCode: 401, meaning: 'A debug route protected by a token was asked for without the right bearer token.' },
  FT_TASK_NOT_FOUND: { statusCode: 404, meaning: 'No live task has the id given to a debug route.' },
  FT_TASK_NOT_CANCELLABLE: { statusCode: 409, meaning: 'The task given to a debug route was already aborting.' },
  FT_INVALID_PARAMETER: { statusCode: 400, meaning: 'A query or path parameter of a debug route had a wrong value.' },
} as const satisfies Record<CoreErrorCode, ErrorTableEntry> & Record<`FT_${string}`, ErrorTableEntry>

/** A code of {@link ERROR_CODES}: any error code of the suite, the scheduler's and the plugin's. */
export type ErrorCode = keyof typeof ERROR_CODES

/** The codes of the plugin's own errors (the rest are the scheduler's). */
type PluginErrorCode = Exclude<ErrorCode, CoreErrorCode>

/** A plugin error class, made by `@fastify/error` with its status from {@link ERROR_CODES}. */
function pluginError<C extends PluginErrorCode>(code: C, message: string) {
  return createError<C, (typeof ERROR_CODES)[C]['statusCode']>(code, message, ERROR_CODES[code].statusCode)
}

/** fastify-tasks was registered twice on the same instance (child contexts share the parent's). */
export const AlreadyRegisteredError = pluginError(
  'FT_ALREADY_REGISTERED',
  'fastify-tasks is already registered on this Fastify instance (or a parent of it); register it once, at the root',
)

/** Another plugin already took the `tasks` decorator. */
export const DecoratorTakenError = pluginError(
  'FT_DECORATOR_TAKEN',
  'fastify-tasks decorates the app and its requests with "tasks", but another plugin already added a "tasks" decorator',
)

/** A request arrived while the process was overloaded. */
export const OverloadedRequestError = pluginError('FT_OVERLOADED_REQUEST', 'The service is overloaded (%s); try again later')

/** A guarded route (the debug routes by default, `/metrics` when given `guard: loopbackOnly`) refused a peer that is not on the loopback interface (judged by the socket, never by headers). */
export const DebugForbiddenError = pluginError(
  'FT_DEBUG_FORBIDDEN',
  'This fastify-tasks route answers loopback peers only (this peer is %s); give it a token or a guard to open it up',
)

/** A route protected by a token (the debug routes or `/metrics`) was asked for without the right bearer token. */
export const DebugUnauthorizedError = pluginError('FT_DEBUG_UNAUTHORIZED', 'This fastify-tasks route needs an Authorization: Bearer token')

/** No live task has this id. */
export const TaskNotFoundError = pluginError('FT_TASK_NOT_FOUND', 'No live task has id %s')

/** The task was already aborting. */
export const TaskNotCancellableError = pluginError('FT_TASK_NOT_CANCELLABLE', 'Task %s is already aborting')

/**
 * A query or path parameter of a debug route had a wrong value. Made with the parameter (as
 * `querystring/limit` or `params/id`), what it must be and what arrived:
 * `querystring/limit must be an integer from 1 to 1000, in decimal digits; received "0x10"`.
 */
export const InvalidParameterError = pluginError('FT_INVALID_PARAMETER', '%s must be %s; received %s')

/** What Fastify reads from an error escaping a handler: the status and headers of the answer. */
interface HttpAnswer {
  statusCode: number
  headers: { 'retry-after': string }
}

/**
 * @internal The HTTP answer to a refused spawn, given where the refusal enters the HTTP layer (the
 * spawn wrappers of `app.tasks` and `request.tasks`, on their refusal path only). An `AdmissionError`
 * gets `statusCode` from {@link ERROR_CODES} (503) and `headers` with `Retry-After`, its `retryAfter`
 * rounded up to whole seconds, which Fastify applies when the error escapes a handler. It stays the
 * same object (the one `rejected` listeners saw), so `instanceof QueueFullError`, `code`, `reason`
 * and `retryAfter` hold. Any other value is returned untouched.
 */
export function withHttpAnswer(error: unknown): unknown {
  if (error instanceof AdmissionError) {
    const answer = error as AdmissionError & HttpAnswer
    answer.statusCode = ERROR_CODES[error.code].statusCode
    answer.headers = { 'retry-after': String(Math.ceil(error.retryAfter)) }
  }
  return error
}
