/**
 * The demo's named tasks: defined once, registered with the plugin, spawned with a JSON payload.
 * The same definitions would run on a durable backend.
 */
import { defineTask } from 'fastify-tasks'
import { postAnalytics } from './work.js'

/** An analytics event for an order. The partner fails one time in five: two more attempts, 200 ms then 400 ms later. */
export const postOrderAnalytics = defineTask('post-analytics', {
  payload: {
    type: 'object',
    required: ['orderId'],
    additionalProperties: false,
    properties: { orderId: { type: 'string', minLength: 1 } },
  },
  priority: 'low',
  retries: 2,
  backoff: { type: 'exponential', delay: 200 },
  run: async ({ orderId }: { orderId: string }, { signal }) => {
    await postAnalytics(`order ${orderId}`, signal)
  },
})

/** Every definition the demo registers. */
export const tasks = [postOrderAnalytics]
