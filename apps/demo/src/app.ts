/**
 * The demo service: order intake whose requests answer at once and leave background work behind.
 * Built as Fastify's testing guide recommends: this module builds the app, `server.ts` listens.
 */
import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyTasks, { ESSENTIAL_ROUTE } from 'fastify-tasks'
import type { DemoConfig } from './config.js'
import { postOrderAnalytics, tasks } from './tasks.js'
import { buildReport, callHungPartner, refreshCache, sendMail } from './work.js'

interface Order {
  readonly id: string
  readonly email: string
  readonly items: number
}

const orderBody = {
  type: 'object',
  required: ['email', 'items'],
  additionalProperties: false,
  properties: {
    email: { type: 'string', minLength: 3, maxLength: 200 },
    items: { type: 'integer', minimum: 1, maximum: 100 },
  },
} as const

export async function build(config: DemoConfig): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: config.logLevel } })
  await app.register(fastifyTasks, {
    concurrency: config.concurrency,
    maxQueue: config.maxQueue,
    timeout: config.taskTimeout,
    abortGrace: 2_000,
    drainTimeout: config.drainTimeout,
    tasks,
    // The demo runs on your machine: let the operator cancel from /debug/tasks (loopback only).
    debug: { cancel: true },
  })

  const orders = new Map<string, Order>()

  app.post<{ Body: { email: string; items: number } }>('/orders', { schema: { body: orderBody } }, async (request, reply) => {
    const order: Order = { id: randomUUID(), email: request.body.email, items: request.body.items }
    orders.set(order.id, order)
    if (orders.size > 10_000) orders.delete(orders.keys().next().value!)

    // A mail with a short deadline: the slow relay (1 in 10) times out, and the task ends timed_out.
    request.tasks.spawn('send-confirmation', ({ signal, log }) => sendMail(order.email, signal).then((m) => log.info(m)), {
      timeout: 2_000,
      priority: 'high',
    })
    // A named task (tasks.ts): analytics that sometimes fail, retried twice; each retry is logged with
    // the request id and counted in /metrics, and so is the rare final failure.
    request.tasks.spawn(postOrderAnalytics, { orderId: order.id })
    // One catalog refresh at a time, whatever the traffic: later orders join the running one.
    request.tasks.spawn('refresh-cache', ({ signal }) => refreshCache(signal), { key: 'cache:catalog', priority: 'low' })
    // CPU-heavy work for big orders, in slices, reporting progress.
    if (order.items >= 20) {
      request.tasks.spawn('build-report', ({ signal, progress }) => buildReport(order.items, signal, progress), {
        priority: 'low',
        timeout: 10_000,
      })
    }
    return reply.code(202).send({ id: order.id })
  })

  app.get<{ Params: { id: string } }>('/orders/:id', async (request, reply) => {
    const order = orders.get(request.params.id)
    return order === undefined ? reply.code(404).send({ error: 'no such order' }) : order
  })

  // THE LEAK, on purpose: every call leaves a task waiting on a partner that never answers and that
  // ignores its abort signal. Hit it a few times, then look at /debug/tasks?format=text.
  app.post('/leaky/partner-sync', async (request, reply) => {
    request.tasks.spawn('sync-partner', () => callHungPartner())
    return reply.code(202).send({ queued: true })
  })

  app.get('/health', { config: { ...ESSENTIAL_ROUTE } }, async () => ({ status: 'ok', liveTasks: app.tasks.liveCount }))

  return app
}
