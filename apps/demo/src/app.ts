/**
 * The demo service: order intake whose requests answer at once and leave background work behind.
 * Built as Fastify's testing guide recommends: this module builds the app, `server.ts` listens.
 */
import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyTasks, { ESSENTIAL_ROUTE, type TaskHandle } from 'fastify-tasks'
import type { DemoConfig } from './config.js'
import { bullmqBackend } from '@fastify-tasks/bullmq'
import { buildOrderReport, postOrderAnalytics, refreshCatalog, sendConfirmation, syncPartner, tasks } from './tasks.js'

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

/** The demo's roles, as the BullMQ backend names them. */
const ROLES = { both: 'both', api: 'producer', worker: 'consumer' } as const

export async function build(config: DemoConfig): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: config.logLevel } })
  await app.register(fastifyTasks, {
    concurrency: config.concurrency,
    maxQueue: config.maxQueue,
    timeout: config.taskTimeout,
    abortGrace: 2_000,
    drainTimeout: config.drainTimeout,
    tasks,
    // With REDIS_URL, the same tasks are kept in Redis and run by any replica (ROLE picks what this one does).
    backend:
      config.redisUrl === undefined
        ? undefined
        : // Short locks, for the demo: a killed worker's jobs run elsewhere within seconds (30 s by default).
          bullmqBackend({ connection: config.redisUrl, role: ROLES[config.role], lockDuration: 5_000, stalledInterval: 2_000 }),
    // The demo runs on your machine: let the operator cancel from /debug/tasks (loopback only).
    debug: { cancel: true },
  })
  // Readiness: on Redis, a replica that cannot reach it would answer every order 503, so it says so.
  app.get('/health', { config: { ...ESSENTIAL_ROUTE } }, async (_request, reply) => {
    const { backend } = app.tasks.summary()
    const ready = backend.connected !== false
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ok' : 'backend unavailable', role: config.role, backend, liveTasks: app.tasks.liveCount })
  })
  // A worker replica runs the tasks others spawn: no routes of its own, /debug/tasks and /metrics only.
  if (config.role === 'worker') return app

  // The catalog is also refreshed every minute, on a cron schedule: in memory this process keeps it; on
  // Redis it is one schedule for every replica (each turn runs once, on whichever worker takes it).
  app.tasks
    .repeat('catalog-every-minute', refreshCatalog, undefined, { cron: '* * * * *' })
    .admitted.catch((error: unknown) => app.log.warn({ err: error }, 'the catalog schedule was not kept: Redis did not answer'))

  const orders = new Map<string, Order>()

  app.post<{ Body: { email: string; items: number } }>('/orders', { schema: { body: orderBody } }, async (request, reply) => {
    const order: Order = { id: randomUUID(), email: request.body.email, items: request.body.items }
    orders.set(order.id, order)
    if (orders.size > 10_000) orders.delete(orders.keys().next().value!)

    // Each spawn is persisted before the answer (in memory, at once; on Redis, once it acknowledged):
    // if it is not, the request answers 503 with Retry-After.
    const spawned: TaskHandle[] = [
      // A mail with a short deadline: the slow relay (1 in 10) times out, and the task ends timed_out.
      request.tasks.spawn(sendConfirmation, { email: order.email }),
      // Analytics that sometimes fail, retried twice; each retry is logged with the request id and
      // counted in /metrics, and so is the rare final failure.
      request.tasks.spawn(postOrderAnalytics, { orderId: order.id }),
      // One catalog refresh at a time, whatever the traffic: later orders join the running one.
      request.tasks.spawn(refreshCatalog, undefined, { key: 'cache:catalog' }),
    ]
    // CPU-heavy work for big orders, in slices, reporting progress.
    if (order.items >= 20) spawned.push(request.tasks.spawn(buildOrderReport, { items: order.items }))
    await Promise.all(spawned.map((task) => task.admitted))
    return reply.code(202).send({ id: order.id })
  })

  app.get<{ Params: { id: string } }>('/orders/:id', async (request, reply) => {
    const order = orders.get(request.params.id)
    return order === undefined ? reply.code(404).send({ error: 'no such order' }) : order
  })

  // THE LEAK, on purpose: every call leaves a task waiting on a partner that never answers and that
  // ignores its abort signal. Hit it a few times, then look at /debug/tasks?format=text.
  app.post('/leaky/partner-sync', async (request, reply) => {
    await request.tasks.spawn(syncPartner, undefined).admitted
    return reply.code(202).send({ queued: true })
  })

  return app
}
