import { createError } from '@fastify/error'

/**
 * The plugin's own errors, in one table (the scheduler's are re-exported from `@fastify-tasks/core`).
 * Every code is listed in `docs/reference/errors.md`; a test keeps them in sync.
 */
export const PLUGIN_ERROR_CODES = {
  FT_ALREADY_REGISTERED: { statusCode: 500, meaning: 'fastify-tasks was registered twice on one Fastify instance.' },
  FT_DECORATOR_TAKEN: { statusCode: 500, meaning: 'Another plugin already decorated the app or its requests with `tasks`.' },
  FT_OVERLOADED_REQUEST: { statusCode: 503, meaning: 'A request arrived while the event loop was overloaded and its route is not marked essential.' },
  FT_DEBUG_FORBIDDEN: { statusCode: 403, meaning: 'A debug route was asked for by a peer that is not on the loopback interface.' },
  FT_DEBUG_UNAUTHORIZED: { statusCode: 401, meaning: 'A debug route protected by a token was asked for without the right bearer token.' },
  FT_TASK_NOT_FOUND: { statusCode: 404, meaning: 'No live task has the id given to a debug route.' },
  FT_TASK_NOT_CANCELLABLE: { statusCode: 409, meaning: 'The task given to a debug route was already aborting.' },
} as const satisfies Record<string, { statusCode: number; meaning: string }>

/** fastify-tasks was registered twice on the same instance (child contexts share the parent's). */
export const AlreadyRegisteredError = createError(
  'FT_ALREADY_REGISTERED',
  'fastify-tasks is already registered on this Fastify instance (or a parent of it); register it once, at the root',
  PLUGIN_ERROR_CODES.FT_ALREADY_REGISTERED.statusCode,
)

/** Another plugin already took the `tasks` decorator. */
export const DecoratorTakenError = createError(
  'FT_DECORATOR_TAKEN',
  'fastify-tasks decorates the app and its requests with "tasks", but another plugin already added a "tasks" decorator',
  PLUGIN_ERROR_CODES.FT_DECORATOR_TAKEN.statusCode,
)

/** A request arrived while the process was overloaded. */
export const OverloadedRequestError = createError(
  'FT_OVERLOADED_REQUEST',
  'The service is overloaded (%s); try again later',
  PLUGIN_ERROR_CODES.FT_OVERLOADED_REQUEST.statusCode,
)

/** A guarded route (the debug routes by default, `/metrics` when given `guard: loopbackOnly`) refused a peer that is not on the loopback interface (judged by the socket, never by headers). */
export const DebugForbiddenError = createError(
  'FT_DEBUG_FORBIDDEN',
  'This fastify-tasks route answers loopback peers only (this peer is %s); give it a token or a guard to open it up',
  PLUGIN_ERROR_CODES.FT_DEBUG_FORBIDDEN.statusCode,
)

/** A route protected by a token (the debug routes or `/metrics`) was asked for without the right bearer token. */
export const DebugUnauthorizedError = createError(
  'FT_DEBUG_UNAUTHORIZED',
  'This fastify-tasks route needs an Authorization: Bearer token',
  PLUGIN_ERROR_CODES.FT_DEBUG_UNAUTHORIZED.statusCode,
)

/** No live task has this id. */
export const TaskNotFoundError = createError(
  'FT_TASK_NOT_FOUND',
  'No live task has id %s',
  PLUGIN_ERROR_CODES.FT_TASK_NOT_FOUND.statusCode,
)

/** The task was already aborting. */
export const TaskNotCancellableError = createError(
  'FT_TASK_NOT_CANCELLABLE',
  'Task %s is already aborting',
  PLUGIN_ERROR_CODES.FT_TASK_NOT_CANCELLABLE.statusCode,
)
