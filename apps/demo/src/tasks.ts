/**
 * The demo's background work, as named tasks: defined once, registered with the plugin, spawned with
 * a JSON payload. The same definitions run in memory (the default) and on Redis (`REDIS_URL`), where
 * any replica may run them.
 */
import { defineTask } from 'fastify-tasks'
import { buildReport, callHungPartner, postAnalytics, refreshCache, sendMail } from './work.js'

/** The order confirmation. A short deadline: the slow relay (1 in 10) times out, and the task ends timed_out. */
export const sendConfirmation = defineTask('send-confirmation', {
  payload: {
    type: 'object',
    required: ['email'],
    additionalProperties: false,
    properties: { email: { type: 'string', minLength: 3, maxLength: 200 } },
  },
  timeout: 2_000,
  priority: 'high',
  run: async ({ email }: { email: string }, { signal, log }) => {
    log.info(await sendMail(email, signal))
  },
})

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

/** The catalog cache: spawned with a key, so one refresh runs at a time and later orders join it. */
export const refreshCatalog = defineTask('refresh-cache', {
  priority: 'low',
  run: async (_: undefined, { signal }) => {
    await refreshCache(signal)
  },
})

/** CPU-heavy work for big orders, in slices, reporting progress. */
export const buildOrderReport = defineTask('build-report', {
  payload: {
    type: 'object',
    required: ['items'],
    additionalProperties: false,
    properties: { items: { type: 'integer', minimum: 1, maximum: 100 } },
  },
  priority: 'low',
  timeout: 10_000,
  run: async ({ items }: { items: number }, { signal, progress }) => buildReport(items, signal, progress),
})

/** THE LEAK, on purpose: a partner that never answers and ignores the abort signal. */
export const syncPartner = defineTask('sync-partner', {
  run: () => callHungPartner(),
})

/** Every definition the demo registers. */
export const tasks = [sendConfirmation, postOrderAnalytics, refreshCatalog, buildOrderReport, syncPartner]
