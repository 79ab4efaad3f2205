/**
 * Scrape time and exposition size of `GET /metrics` against the number of distinct task names. For
 * each name count, a fresh app settles a mix of tasks for every name (`settled-mix.ts`), serves a
 * few requests so the HTTP histogram has series, then `/metrics` is requested in-process with
 * `app.inject`, repeatedly. Every app is closed, even when a measurement fails.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyTasks from 'fastify-tasks'
import { collectGarbage } from './gc.js'
import { timedGet } from './inject-timing.js'
import { median } from './median.js'
import { settleMix, taskNames } from './settled-mix.js'

export interface ScrapeCostOptions {
  /** Distinct task names, one fresh app each. */
  readonly names: readonly number[]
  /** Scrapes per app. */
  readonly scrapes: number
  /** Leading scrapes discarded (the first flushes the counters and adds the `/metrics` route's own HTTP series). */
  readonly warmup: number
  /** Called after each app is measured. */
  readonly onApp?: () => void
}

export interface ScrapeStats {
  readonly names: number
  /** Scrape time, ms: median and range over the measured scrapes. */
  readonly ms: number
  readonly msMin: number
  readonly msMax: number
  /** Size of the last exposition, bytes. */
  readonly bytes: number
  /** Sample lines of the last exposition (not `#` comments). */
  readonly samples: number
}

export type ScrapeCostResult = readonly ScrapeStats[]

/** `maxTaskNames` of every app, above every name count measured, so no name folds into `__other__`. */
export const SCRAPE_MAX_TASK_NAMES = 500

/** The requests served before scraping, each `HTTP_REQUESTS_EACH` times. Printed with the results. */
export const HTTP_REQUESTS = [
  { method: 'GET', url: '/orders/42', status: 200 },
  { method: 'POST', url: '/orders', status: 202 },
  { method: 'GET', url: '/no-such-route', status: 404 },
] as const
export const HTTP_REQUESTS_EACH = 10

async function createApp(): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  await app.register(fastifyTasks, { metrics: { maxTaskNames: SCRAPE_MAX_TASK_NAMES } })
  app.get('/orders/:id', async () => ({ id: 42 }))
  app.post('/orders', async (_request, reply) => reply.code(202).send())
  await app.ready()
  return app
}

async function serveRequests(app: FastifyInstance): Promise<void> {
  for (let i = 0; i < HTTP_REQUESTS_EACH; i++) {
    for (const { method, url, status } of HTTP_REQUESTS) {
      const response = await app.inject({ method, url })
      if (response.statusCode !== status) throw new Error(`${method} ${url}: HTTP ${response.statusCode}, expected ${status}`)
    }
  }
}

const sampleLines = (exposition: string): number => exposition.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length

async function measureOne(names: number, options: ScrapeCostOptions): Promise<ScrapeStats> {
  const app = await createApp()
  try {
    const taskNamesUsed = taskNames(names)
    await settleMix(app, taskNamesUsed)
    await serveRequests(app)
    await collectGarbage()
    const ms: number[] = []
    let last = { bytes: 0, body: '' }
    for (let scrape = 0; scrape < options.warmup + options.scrapes; scrape++) {
      const response = await timedGet(app, '/metrics')
      if (scrape >= options.warmup) ms.push(response.ms)
      last = response
    }
    // Every name has its own series: none was folded into __other__.
    const missing = taskNamesUsed.filter((name) => !last.body.includes(`task="${name}"`))
    if (missing.length > 0 || last.body.includes('task="__other__"')) {
      throw new Error(`/metrics lacks series for ${missing.length} of ${names} task names, or has __other__`)
    }
    return { names, ms: median(ms), msMin: Math.min(...ms), msMax: Math.max(...ms), bytes: last.bytes, samples: sampleLines(last.body) }
  } finally {
    await app.close()
  }
}

export async function measureScrapeCost(options: ScrapeCostOptions): Promise<ScrapeCostResult> {
  const results: ScrapeStats[] = []
  for (const names of options.names) {
    results.push(await measureOne(names, options))
    options.onApp?.()
  }
  return results
}
