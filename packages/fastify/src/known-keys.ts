// The debug routes' import, until they take it from the core's validation entry like the rest.
export { checkKnownKeys } from '@fastify-tasks/core/validation'
