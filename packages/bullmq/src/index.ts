/**
 * `@fastify-tasks/bullmq`: the durable backend of fastify-tasks on BullMQ (Redis).
 * @packageDocumentation
 */
export { bullmqBackend, BullmqBackend, type JobCounts } from './bullmq-backend.js'
export type { BullmqBackendOptions, RedisClient, Retention, Role } from './options.js'
