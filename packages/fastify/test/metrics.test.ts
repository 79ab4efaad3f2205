import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ManualClock } from '@fastify-tasks/core/testing'
import Fastify from 'fastify'
import { Counter, Registry } from 'prom-client'
import fastifyTasks, { InvalidOptionError, metricsRoute } from '../src/index.js'
import { buildApp, flush } from './helpers.js'

/** `name{labels} value` lines of an exposition, without comments. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    out.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return out
}

async function scrape(app: Awaited<ReturnType<typeof buildApp>>['app'], url = '/metrics'): Promise<Map<string, number>> {
  const response = await app.inject(url)
  assert.equal(response.statusCode, 200)
  return samples(response.body)
}

describe('/metrics', () => {
  it('counts tasks by name and outcome, refusals by reason, leaks, and abandonment at shutdown', async () => {
    const clock = new ManualClock()
    const { app } = await buildApp({ clock, concurrency: 2, maxQueue: 1, timeout: 100, abortGrace: 50, drainTimeout: 0 })
    await app.tasks.spawn('mail', () => 'sent').settled
    await app.tasks.spawn('mail', () => 'sent').settled
    await app.tasks.spawn('mail', () => Promise.reject(new Error('smtp down'))).settled
    app.tasks.spawn('partner', () => new Promise(() => {})) // times out, then leaks
    app.tasks.spawn('report', () => new Promise(() => {})) // running at shutdown
    app.tasks.spawn('report', () => 1) // waiting at shutdown
    assert.throws(() => app.tasks.spawn('report', () => 1), /queue_full/)
    clock.advance(100)
    clock.advance(50)
    const m = await scrape(app)
    assert.equal(m.get('fastify_tasks_spawned_total{task="mail"}'), 3)
    assert.equal(m.get('fastify_tasks_finished_total{task="mail",outcome="completed"}'), 2)
    assert.equal(m.get('fastify_tasks_finished_total{task="mail",outcome="failed"}'), 1)
    assert.equal(m.get('fastify_tasks_rejected_total{task="report",reason="queue_full"}'), 1)
    assert.equal(m.get('fastify_tasks_leaked_total{task="partner"}'), 1)
    assert.equal(m.get('fastify_tasks_duration_seconds_count{task="mail",outcome="completed"}'), 2)
    assert.equal(m.get('fastify_tasks_queue_wait_seconds_count{task="mail"}'), 3)
    assert.equal(m.get('fastify_tasks_live{state="running"}'), 0)
    assert.equal(m.get('fastify_tasks_live{state="aborting"}'), 2)
    assert.equal(m.get('fastify_tasks_live{state="pending"}'), 1)
    assert.equal(m.get('fastify_tasks_concurrency_limit'), 2)
    assert.equal(m.get('fastify_tasks_queue_capacity'), 1)
    assert.equal(m.get('fastify_tasks_draining'), 0)
    // A second scrape does not count twice.
    assert.equal((await scrape(app)).get('fastify_tasks_spawned_total{task="mail"}'), 3)

    const closing = app.close()
    await flush()
    clock.advance(50)
    await closing
    const after = samples(await app.tasks.metrics!.registry.metrics())
    assert.equal(after.get('fastify_tasks_abandoned_total{task="report"}'), 2)
    assert.equal(after.get('fastify_tasks_abandoned_total{task="partner"}'), 1)
    assert.equal(after.get('fastify_tasks_finished_total{task="report",outcome="dropped"}'), 1)
    assert.equal(after.get('fastify_tasks_draining'), 1)
  })

  it('measures HTTP requests by route template, never the raw URL', async () => {
    const { app } = await buildApp()
    app.get('/orders/:id', async () => 'ok')
    for (const id of ['1', '2', '3']) await app.inject(`/orders/${id}`)
    await app.inject('/nope/at/all')
    const m = await scrape(app)
    assert.equal(m.get('fastify_tasks_http_request_duration_seconds_count{method="GET",route="/orders/:id",status_code="200"}'), 3)
    assert.equal(m.get('fastify_tasks_http_request_duration_seconds_count{method="GET",route="(unmatched)",status_code="404"}'), 1)
    assert.ok(![...m.keys()].some((k) => k.includes('/orders/1')))
    await app.close()
  })

  it('caps distinct task names; later names share __other__', async () => {
    const { app } = await buildApp({ metrics: { maxTaskNames: 3 } })
    for (let i = 0; i < 10; i++) await app.tasks.spawn(`job-${i}`, () => 1).settled
    const m = await scrape(app)
    const tasks = new Set([...m.keys()].filter((k) => k.startsWith('fastify_tasks_spawned_total')).map((k) => /task="([^"]*)"/.exec(k)![1]))
    assert.deepEqual([...tasks].sort(), ['__other__', 'job-0', 'job-1', 'job-2'])
    assert.equal(m.get('fastify_tasks_spawned_total{task="__other__"}'), 7)
    assert.equal(app.tasks.metrics!.foldedTaskNames, 7)
    await app.close()
  })

  it('uses the prefix and buckets given, serves the content type Prometheus expects', async () => {
    const { app } = await buildApp({ metrics: { prefix: 'myapp_jobs_', durationBuckets: [0.1, 1], path: '/internal/metrics' } })
    await app.tasks.spawn('x', () => 1).settled
    const response = await app.inject('/internal/metrics')
    assert.equal(response.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8')
    assert.match(response.body, /^myapp_jobs_duration_seconds_bucket\{le="0\.1",task="x",outcome="completed"\} 1$/m)
    assert.doesNotMatch(response.body, /fastify_tasks_/)
    assert.equal((await app.inject('/metrics')).statusCode, 404)
    await app.close()
  })

  it("a user's registry gets the app's metrics beside the user's own; apps sharing it need distinct prefixes", async () => {
    const registry = new Registry()
    const mine = new Counter({ name: 'orders_total', help: 'Orders.', registers: [registry] })
    mine.inc(5)
    const one = Fastify()
    await one.register(fastifyTasks, { metrics: { registry } })
    const body = (await one.inject('/metrics')).body
    assert.match(body, /^orders_total 5$/m)
    assert.match(body, /^fastify_tasks_live\{state="running"\} 0$/m)
    assert.match(body, /^process_cpu_user_seconds_total /m)

    const clash = Fastify()
    await assert.rejects(
      async () => {
        await clash.register(fastifyTasks, { metrics: { registry } })
        await clash.ready()
      },
      (error: unknown) => error instanceof InvalidOptionError && error.option === 'metrics.prefix',
    )
    await clash.close()

    const two = Fastify()
    await two.register(fastifyTasks, { metrics: { registry, prefix: 'second_' } })
    const both = (await two.inject('/metrics')).body
    assert.match(both, /^second_live\{state="running"\} 0$/m)
    assert.equal(both.match(/^# TYPE process_cpu_user_seconds_total/gm)!.length, 1, 'process metrics once per registry')
    await two.close()
    await one.close()
    // Closing removed the apps' metrics from the shared registry; the user's stay.
    assert.deepEqual(registry.getMetricsAsArray().map((m) => m.name).filter((n) => n.startsWith('fastify_tasks_') || n.startsWith('second_')), [])
    assert.ok(registry.getSingleMetric('orders_total') !== undefined)
    // A new app can register again (a test suite building many apps).
    const three = Fastify()
    await three.register(fastifyTasks, { metrics: { registry } })
    await three.ready()
    await three.close()
  })

  it('two apps with their own registries never collide', async () => {
    const a = await buildApp()
    const b = await buildApp()
    await a.app.tasks.spawn('only-in-a', () => 1).settled
    assert.equal((await scrape(a.app)).get('fastify_tasks_spawned_total{task="only-in-a"}'), 1)
    assert.equal((await scrape(b.app)).get('fastify_tasks_spawned_total{task="only-in-a"}'), undefined)
    await a.app.close()
    await b.app.close()
  })

  it('closing the app stops the event-loop monitor and the GC observer its metrics started', { skip: typeof globalThis.gc !== 'function' && 'needs --expose-gc' }, async () => {
    const gc = globalThis.gc as () => void
    const { app } = await buildApp()
    await app.ready()
    assert.equal(app.tasks.eventLoop.running, true)
    const registry = app.tasks.metrics!.registry
    const gcCount = async (): Promise<number> => {
      const lines = (await registry.metrics()).split('\n').filter((l) => l.startsWith('nodejs_gc_duration_seconds_count'))
      return lines.reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0)
    }
    gc()
    await flush()
    const whileOpen = await gcCount()
    assert.ok(whileOpen > 0, 'the observer records GC while the app is open')
    await app.close()
    assert.equal(app.tasks.eventLoop.running, false)
    gc()
    await flush()
    assert.equal(await gcCount(), whileOpen, 'no GC recorded after close')
  })

  it('metrics: false means no metrics and no route; route: false keeps the registry without the route', async () => {
    const off = await buildApp({ metrics: false })
    assert.equal(off.app.tasks.metrics, undefined)
    assert.equal((await off.app.inject('/metrics')).statusCode, 404)
    await off.app.close()

    const noRoute = Fastify()
    await noRoute.register(fastifyTasks, { metrics: { route: false } })
    await noRoute.register(metricsRoute, { prefix: '/ops' } as never)
    assert.equal((await noRoute.inject('/metrics')).statusCode, 404)
    assert.equal((await noRoute.inject('/ops/metrics')).statusCode, 200)
    await noRoute.close()
  })

  it('rejects bad metrics options, naming them', async () => {
    for (const [metrics, option] of [
      [{ prefix: '9bad' }, 'metrics.prefix'],
      [{ maxTaskNames: 0 }, 'metrics.maxTaskNames'],
      [{ durationBuckets: [1, 0.5] }, 'metrics.durationBuckets'],
      [{ httpBuckets: [] }, 'metrics.httpBuckets'],
      [{ registry: {} }, 'metrics.registry'],
      [{ path: 'metrics' }, 'metrics.path'],
      ['yes', 'metrics'],
    ] as const) {
      const app = Fastify()
      await assert.rejects(
        async () => {
          await app.register(fastifyTasks, { metrics } as never)
          await app.ready()
        },
        (error: unknown) => error instanceof InvalidOptionError && error.option === option,
        option,
      )
      await app.close()
    }
  })
})
