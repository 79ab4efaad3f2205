/**
 * `@fastify-tasks/core/testing`: helpers for testing code that uses the scheduler.
 * @packageDocumentation
 */
export { ManualClock } from './manual-clock.js'
