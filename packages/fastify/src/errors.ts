import createError from '@fastify/error'

/**
 * The plugin's own errors, in one table (the scheduler's are re-exported from `@fastify-tasks/core`).
 * Every code is listed in `docs/reference/errors.md`; a test keeps them in sync.
 */
export const PLUGIN_ERROR_CODES = {
  FT_ALREADY_REGISTERED: { statusCode: 500, meaning: 'fastify-tasks was registered twice on one Fastify instance.' },
} as const satisfies Record<string, { statusCode: number; meaning: string }>

/** fastify-tasks was registered twice on the same instance (child contexts share the parent's). */
export const AlreadyRegisteredError = createError(
  'FT_ALREADY_REGISTERED',
  'fastify-tasks is already registered on this Fastify instance (or a parent of it); register it once, at the root',
  PLUGIN_ERROR_CODES.FT_ALREADY_REGISTERED.statusCode,
)
