/**
 * A Fastify app holding a population of live tasks that never settle on their own, for the debug
 * route benchmark. The mix looks like a real service's: most tasks are spawned from request handlers
 * (so they carry the route's labels and a request id, and group by route), the rest with
 * `app.tasks.spawn` (two of them with their own labels). The population grows in steps; at the end
 * everything is cancelled and the app closed.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyTasks, { type FastifyTaskContext } from 'fastify-tasks'

/** Settles only when aborted, and then rejects with the abort's reason: it honours its signal. */
const untilAborted = ({ signal }: FastifyTaskContext): Promise<never> =>
  new Promise<never>((_resolve, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true })
  })

/**
 * One unit of the mix, 10 tasks: the requests it makes (each handler spawns its route's tasks), then
 * the tasks spawned outside any request. Printed with the results.
 */
export const LIVE_MIX = [
  "POST /orders/:id → 'send-confirmation', 'charge-card', 'update-search-index'",
  "PUT /users/:id/avatar → 'resize-avatar', 'update-search-index'",
  "GET /reports/:kind (×2) → 'build-report'",
  "app.tasks.spawn: 'refresh-cache' { cache: 'prices' }, 'refresh-cache' { cache: 'catalog' }, 'sync-inventory'",
] as const

/** Tasks per unit of {@link LIVE_MIX}. */
export const TASKS_PER_UNIT = 10

const REQUESTS: readonly { method: 'POST' | 'PUT' | 'GET'; url: (i: number) => string }[] = [
  { method: 'POST', url: (i) => `/orders/${i}` },
  { method: 'PUT', url: (i) => `/users/${i}/avatar` },
  { method: 'GET', url: (i) => `/reports/${i % 2 === 0 ? 'daily' : 'weekly'}` },
  { method: 'GET', url: (i) => `/reports/${i % 2 === 0 ? 'weekly' : 'daily'}` },
]

const PRICES = { cache: 'prices' }
const CATALOG = { cache: 'catalog' }

/**
 * Tasks allowed to run at once: the first 100 live tasks run, the rest wait in the queue, as in a
 * service whose background work has fallen behind.
 */
export const LIVE_CONCURRENCY = 100

export interface LiveTaskApp {
  readonly app: FastifyInstance
  /** Live tasks now. */
  readonly size: number
  /** Of those, how many are running (the rest are queued). */
  readonly running: number
  /** Adds units of the mix until at least `tasks` are live. */
  grow(tasks: number): Promise<void>
  /** Cancels every task (they reject on abort), closes the app with a drain timeout of 0, checks nothing is left. */
  close(): Promise<void>
}

export async function createLiveTaskApp(): Promise<LiveTaskApp> {
  const app = Fastify({ logger: false })
  // Growing the population keeps the event loop saturated on purpose; backpressure would then answer
  // the spawning requests 503, shed their spawns and shrink the running limit, so the population (and
  // its running/pending split) would depend on timing. It is off: the views report the same tasks.
  await app.register(fastifyTasks, { concurrency: LIVE_CONCURRENCY, maxQueue: 200_000, timeout: Infinity, backpressure: false })
  app.post('/orders/:id', async (request, reply) => {
    request.tasks.spawn('send-confirmation', untilAborted)
    request.tasks.spawn('charge-card', untilAborted)
    request.tasks.spawn('update-search-index', untilAborted)
    return reply.code(202).send()
  })
  app.put('/users/:id/avatar', async (request, reply) => {
    request.tasks.spawn('resize-avatar', untilAborted)
    request.tasks.spawn('update-search-index', untilAborted)
    return reply.code(202).send()
  })
  app.get('/reports/:kind', async (request, reply) => {
    request.tasks.spawn('build-report', untilAborted)
    return reply.code(202).send()
  })
  await app.ready()

  let units = 0
  const addUnit = async (): Promise<void> => {
    const i = units++
    for (const { method, url } of REQUESTS) {
      const response = await app.inject({ method, url: url(i) })
      if (response.statusCode !== 202) throw new Error(`${method} ${url(i)}: HTTP ${response.statusCode} ${response.body.slice(0, 200)}`)
    }
    app.tasks.spawn('refresh-cache', untilAborted, { labels: PRICES })
    app.tasks.spawn('refresh-cache', untilAborted, { labels: CATALOG })
    app.tasks.spawn('sync-inventory', untilAborted)
  }

  return {
    app,
    get size() {
      return app.tasks.liveCount
    },
    get running() {
      return app.tasks.summary().live.running
    },
    grow: async (tasks) => {
      while (app.tasks.liveCount < tasks) await addUnit()
      if (app.tasks.liveCount !== units * TASKS_PER_UNIT) {
        throw new Error(`expected ${units * TASKS_PER_UNIT} live tasks, found ${app.tasks.liveCount}`)
      }
    },
    close: async () => {
      const live = app.tasks.liveCount
      app.tasks.drainTimeout = 0
      const cancelled = app.tasks.cancelWhere(() => true)
      await app.close()
      if (cancelled !== live || app.tasks.liveCount !== 0) {
        throw new Error(`cancelled ${cancelled} of ${live} live tasks; ${app.tasks.liveCount} left after close`)
      }
    },
  }
}
