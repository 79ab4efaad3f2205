/**
 * Scrape time and exposition size of `GET /metrics` against the number of distinct task names. For
 * each name count, a fresh app settles a mix of tasks for every name (`settled-mix.ts`), serves a
 * few requests so the HTTP histogram has series, then `/metrics` is requested in-process with
 * `app.inject`, repeatedly and back to back; then a few more scrapes are watched by an event-loop
 * delay monitor; then, after a forced GC, prom-client's own `registry.metrics()` of the same registry
 * is timed and watched a few times (what serving the registry without the route costs). Every app is
 * closed, even when a measurement fails.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyTasks from 'fastify-tasks'
import { collectGarbage } from './gc.js'
import { median } from './median.js'
import { settleMix, taskNames } from './settled-mix.js'

export interface ScrapeCostOptions {
  /** Distinct task names, one fresh app each. */
  readonly names: readonly number[]
  /** Scrapes per app. */
  readonly scrapes: number
  /** Leading scrapes discarded (the first adds the `/metrics` route's own HTTP series). */
  readonly warmup: number
  /** Scrapes per app after the timed ones, each watched by an event-loop delay monitor. */
  readonly delayScrapes: number
  /** Calls of prom-client's `registry.metrics()` per app, after the scrapes (one more first, discarded). */
  readonly promClientScrapes: number
  /** Called after each app is measured. */
  readonly onApp?: () => void
}

export interface ScrapeStats {
  readonly names: number
  /** Scrape time, ms: median and range over the measured scrapes. */
  readonly ms: number
  readonly msMin: number
  readonly msMax: number
  /** Longest event-loop delay during a scrape, ms: median and maximum over the watched scrapes. */
  readonly loopDelayMs: number
  readonly loopDelayMaxMs: number
  /** prom-client's `registry.metrics()` of the same registry, ms: median over its calls. */
  readonly promClientMs: number
  /** Longest event-loop delay during `registry.metrics()`, ms: median over its calls. */
  readonly promClientLoopDelayMs: number
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

/** Resolution of the event-loop delay monitor, ms (its finest). */
const LOOP_DELAY_RESOLUTION_MS = 1

const after = (ms: number): Promise<void> => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Runs `scrape` and returns the longest event-loop delay the monitor saw meanwhile, in ms: how long
 * the scrape held the loop in one go (or a garbage collection did). The monitor measures from one of
 * its ticks to the next and a reset forgets the last tick, so the wait before the scrape lets it tick
 * once; the wait after lets it tick again, so a block at the very end is recorded too.
 */
async function longestDelayDuring(monitor: IntervalHistogram, scrape: () => Promise<unknown>): Promise<number> {
  monitor.reset()
  await after(LOOP_DELAY_RESOLUTION_MS * 2)
  await scrape()
  await after(LOOP_DELAY_RESOLUTION_MS * 3)
  return monitor.max / 1e6
}

/** One timed scrape: its time and size; its body too when `keep` (for the checks after the timed ones). */
interface Scrape {
  readonly ms: number
  readonly bytes: number
  readonly body: string | undefined
}

/**
 * `GET /metrics` in-process, timed from the call of `inject` to the last byte of the body, read as a
 * stream: light-my-request otherwise also copies the body into one buffer and decodes it into a
 * string, about 1.5 ms for 1.4 MiB plus the garbage, which is the work of the client (Prometheus, in
 * a process of its own), not of the server. The body is decoded after the clock stops when `keep`.
 * Throws on any status but 200.
 */
async function timedScrape(app: FastifyInstance, keep: boolean): Promise<Scrape> {
  const start = performance.now()
  const response = await app.inject({ method: 'GET', url: '/metrics', payloadAsStream: true })
  const chunks: Buffer[] = []
  let bytes = 0
  for await (const chunk of response.stream()) {
    bytes += (chunk as Buffer).length
    if (keep) chunks.push(chunk as Buffer)
  }
  const ms = performance.now() - start
  const body = keep ? Buffer.concat(chunks).toString() : undefined
  if (response.statusCode !== 200) throw new Error(`GET /metrics: HTTP ${response.statusCode} ${body?.slice(0, 200) ?? ''}`)
  return { ms, bytes, body }
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
    const loopDelays: number[] = []
    const promClientMs: number[] = []
    const promClientLoopDelays: number[] = []
    const registry = app.tasks.metrics!.registry
    let last: Scrape = { ms: 0, bytes: 0, body: undefined }
    let promClientLast = ''
    // Timed back to back, with no monitor running: its waits would let other processes in between.
    const scrapes = options.warmup + options.scrapes
    for (let scrape = 0; scrape < scrapes; scrape++) {
      last = await timedScrape(app, scrape === scrapes - 1)
      if (scrape >= options.warmup) ms.push(last.ms)
    }
    const body = last.body!
    const monitor = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS })
    monitor.enable()
    try {
      // Then the loop delay of a few more scrapes, each watched on its own.
      for (let scrape = 0; scrape < options.delayScrapes; scrape++) {
        loopDelays.push(await longestDelayDuring(monitor, () => timedScrape(app, false)))
      }
      // prom-client's garbage (objects per sample) must not land in the scrapes above: measured after them.
      await collectGarbage()
      for (let call = 0; call <= options.promClientScrapes; call++) {
        const delay = await longestDelayDuring(monitor, async () => {
          const start = performance.now()
          promClientLast = await registry.metrics()
          if (call > 0) promClientMs.push(performance.now() - start)
        })
        if (call > 0) promClientLoopDelays.push(delay)
      }
    } finally {
      monitor.disable()
    }
    // The route and prom-client show the same fastify-tasks series (values may differ: the route's own
    // requests count; process metrics such as active resources come and go).
    const seriesOf = (exposition: string): string =>
      exposition
        .split('\n')
        .filter((line) => line.startsWith('fastify_tasks_'))
        .map((line) => line.slice(0, line.lastIndexOf(' ')))
        .sort()
        .join('\n')
    if (seriesOf(body) !== seriesOf(promClientLast)) throw new Error('/metrics and registry.metrics() show different fastify-tasks series')
    // Every name has its own series: none was folded into __other__.
    const missing = taskNamesUsed.filter((name) => !body.includes(`task="${name}"`))
    if (missing.length > 0 || body.includes('task="__other__"')) {
      throw new Error(`/metrics lacks series for ${missing.length} of ${names} task names, or has __other__`)
    }
    return {
      names,
      ms: median(ms),
      msMin: Math.min(...ms),
      msMax: Math.max(...ms),
      loopDelayMs: median(loopDelays),
      loopDelayMaxMs: Math.max(...loopDelays),
      promClientMs: median(promClientMs),
      promClientLoopDelayMs: median(promClientLoopDelays),
      bytes: last.bytes,
      samples: sampleLines(body),
    }
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
