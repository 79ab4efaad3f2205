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
  it("exports each task name's limit", async () => {
    const { app } = await buildApp({ limits: { fixed: { mail: 3 } }, timeout: Infinity })
    app.tasks.spawn('mail', () => new Promise<never>(() => {}))
    app.tasks.spawn('report', () => new Promise<never>(() => {}))
    const m = await scrape(app)
    assert.equal(m.get('fastify_tasks_task_limit{task="mail"}'), 3)
    assert.equal(m.get('fastify_tasks_task_limit{task="report"}'), 1_000)
    await app.close()
  })

  it('counts tasks by name and outcome, refusals by reason, leaks, and abandonment at shutdown', async () => {
    const clock = new ManualClock()
    const { app } = await buildApp({ clock, concurrency: 2, maxQueue: 1, timeout: 100, abortGrace: 50, drainTimeout: 0 })
    await app.tasks.spawn('mail', () => 'sent').settled
    await app.tasks.spawn('mail', () => 'sent').settled
    await app.tasks.spawn('mail', () => Promise.reject(new Error('smtp down'))).settled
    app.tasks.spawn('partner', () => new Promise(() => {})) // times out, then leaks
    app.tasks.spawn('report', () => new Promise(() => {}), { timeout: Infinity }) // running at shutdown
    app.tasks.spawn('report', () => 1) // waits, then takes the slot the partner gives up
    assert.throws(() => app.tasks.spawn('report', () => 1), /queue_full/)
    clock.advance(100)
    await flush()
    app.tasks.spawn('report', () => new Promise(() => {}), { timeout: Infinity }) // running at shutdown
    app.tasks.spawn('report', () => 1) // waiting at shutdown
    clock.advance(50)
    const m = await scrape(app)
    assert.equal(m.get('fastify_tasks_spawned_total{task="mail"}'), 3)
    assert.equal(m.get('fastify_tasks_finished_total{task="mail",outcome="completed"}'), 2)
    assert.equal(m.get('fastify_tasks_finished_total{task="mail",outcome="failed"}'), 1)
    assert.equal(m.get('fastify_tasks_finished_total{task="report",outcome="completed"}'), 1)
    assert.equal(m.get('fastify_tasks_rejected_total{task="report",reason="queue_full"}'), 1)
    assert.equal(m.get('fastify_tasks_leaked_total{task="partner"}'), 1)
    assert.equal(m.get('fastify_tasks_duration_seconds_count{task="mail",outcome="completed"}'), 2)
    assert.equal(m.get('fastify_tasks_queue_wait_seconds_count{task="mail"}'), 3)
    assert.equal(m.get('fastify_tasks_live{state="running"}'), 2)
    assert.equal(m.get('fastify_tasks_live{state="aborting"}'), 1, 'the partner, given up: it holds no slot')
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
    assert.equal(after.get('fastify_tasks_abandoned_total{task="report"}'), 3)
    assert.equal(after.get('fastify_tasks_abandoned_total{task="partner"}'), 1)
    assert.equal(after.get('fastify_tasks_finished_total{task="report",outcome="dropped"}'), 1)
    assert.equal(after.get('fastify_tasks_released_total{task="partner",release="closed"}'), 1)
    assert.equal(after.get('fastify_tasks_released_total{task="report",release="closed"}'), 2)
    assert.equal(after.get('fastify_tasks_draining'), 1)
  })

  it('counts given-up tasks released without settling by release, and their late settlements', async () => {
    const clock = new ManualClock()
    const { app } = await buildApp({ clock, timeout: 100, maxGivenUpPerName: 1, givenUpTtl: 1_000 })
    let finish: () => void = () => {}
    app.tasks.spawn('partner', () => new Promise<void>((resolve) => (finish = resolve)))
    clock.advance(100)
    app.tasks.spawn('partner', () => new Promise(() => {}))
    clock.advance(100) // the second is given up: the first is evicted to make room
    finish() // the evicted one settles after all
    await flush()
    clock.advance(1_000) // the second expires
    const m = await scrape(app)
    assert.equal(m.get('fastify_tasks_released_total{task="partner",release="evicted"}'), 1)
    assert.equal(m.get('fastify_tasks_released_total{task="partner",release="expired"}'), 1)
    assert.equal(m.get('fastify_tasks_late_settled_total{task="partner"}'), 1)
    assert.equal(m.get('fastify_tasks_finished_total{task="partner",outcome="timed_out"}'), 2)
    assert.equal(m.get('fastify_tasks_live{state="aborting"}'), 0)
  })

  it('exports every counter series of a task name at 0 as soon as the name is seen, so increase() sees the first event', async () => {
    const { app } = await buildApp()
    await app.tasks.spawn('mail', () => 'sent').settled
    const m = await scrape(app)
    const zeros = [
      'fastify_tasks_leaked_total{task="mail"}',
      'fastify_tasks_retries_total{task="mail"}',
      'fastify_tasks_abandoned_total{task="mail"}',
      'fastify_tasks_late_settled_total{task="mail"}',
      ...['queue_full', 'overloaded', 'closing'].map((reason) => `fastify_tasks_rejected_total{task="mail",reason="${reason}"}`),
      ...['failed', 'cancelled', 'timed_out', 'dropped'].map((outcome) => `fastify_tasks_finished_total{task="mail",outcome="${outcome}"}`),
      ...['evicted', 'expired', 'closed'].map((release) => `fastify_tasks_released_total{task="mail",release="${release}"}`),
    ]
    for (const series of zeros) assert.equal(m.get(series), 0, series)
    assert.equal(m.get('fastify_tasks_finished_total{task="mail",outcome="completed"}'), 1)
    await app.close()
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
    assert.deepEqual(
      registry
        .getMetricsAsArray()
        .map((m) => m.name)
        .filter((n) => n.startsWith('fastify_tasks_') || n.startsWith('second_')),
      [],
    )
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

  it("the oldest running task's start time is now less its age on the scheduler clock, in Unix seconds", async () => {
    const clock = new ManualClock()
    const { app } = await buildApp({ clock, timeout: Infinity, drainTimeout: 0, abortGrace: 0 })
    const startTime = async (): Promise<{ value: number; before: number; after: number }> => {
      const before = Date.now()
      const value = (await scrape(app)).get('fastify_tasks_oldest_running_start_time_seconds')!
      return { value, before, after: Date.now() }
    }
    let { value, before, after } = await startTime()
    assert.ok(value >= before / 1000 && value <= after / 1000, `now when none runs: ${value} in [${before / 1000}, ${after / 1000}]`)
    app.tasks.spawn('export', () => new Promise(() => {}))
    clock.advance(90_000)
    app.tasks.spawn('export', () => new Promise(() => {}))
    ;({ value, before, after } = await startTime())
    assert.ok(
      value >= (before - 90_000) / 1000 && value <= (after - 90_000) / 1000,
      `90 s ago: ${value} in [${(before - 90_000) / 1000}, ${(after - 90_000) / 1000}]`,
    )
    app.tasks.cancelWhere(() => true)
    await app.close()
  })

  it(
    'closing the app stops the event-loop monitor and the GC observer its metrics started',
    { skip: typeof globalThis.gc !== 'function' && 'needs --expose-gc' },
    async () => {
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
    },
  )

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

  it('after registry.resetMetrics() the duration and queue-wait histograms count again', async () => {
    const { app } = await buildApp()
    const registry = app.tasks.metrics!.registry
    for (let i = 0; i < 2; i++) await app.tasks.spawn('mail', () => 'sent').settled
    await app.tasks.spawn('gone', () => 1).settled
    let m = await scrape(app)
    assert.equal(m.get('fastify_tasks_duration_seconds_count{task="mail",outcome="completed"}'), 2)
    assert.equal(m.get('fastify_tasks_queue_wait_seconds_count{task="mail"}'), 2)

    registry.resetMetrics()
    assert.doesNotMatch(await registry.metrics(), /^fastify_tasks_\w+_seconds_(bucket|sum|count)\{/m, 'a reset leaves no histogram series')
    for (let i = 0; i < 3; i++) await app.tasks.spawn('mail', () => 'sent').settled
    m = await scrape(app)
    assert.equal(m.get('fastify_tasks_duration_seconds_count{task="mail",outcome="completed"}'), 3)
    assert.equal(m.get('fastify_tasks_duration_seconds_bucket{le="+Inf",task="mail",outcome="completed"}'), 3)
    assert.equal(m.get('fastify_tasks_queue_wait_seconds_count{task="mail"}'), 3)
    assert.equal(m.get('fastify_tasks_queue_wait_seconds_bucket{le="+Inf",task="mail"}'), 3)
    assert.equal(m.get('fastify_tasks_spawned_total{task="mail"}'), 3)
    assert.equal(m.get('fastify_tasks_finished_total{task="mail",outcome="completed"}'), 3)
    // A name not seen since the reset has no histogram series until it is seen again; its counters
    // are exported at 0 (every known name's are, so that increase() sees its first event).
    assert.equal(m.get('fastify_tasks_duration_seconds_count{task="gone",outcome="completed"}'), undefined)
    assert.equal(m.get('fastify_tasks_queue_wait_seconds_count{task="gone"}'), undefined)
    assert.equal(m.get('fastify_tasks_spawned_total{task="gone"}'), 0)
    await app.tasks.spawn('gone', () => 1).settled
    m = await scrape(app)
    assert.equal(m.get('fastify_tasks_duration_seconds_count{task="gone",outcome="completed"}'), 1)
    assert.equal(m.get('fastify_tasks_queue_wait_seconds_count{task="gone"}'), 1)
    assert.equal(m.get('fastify_tasks_duration_seconds_count{task="mail",outcome="completed"}'), 3)
    await app.close()
  })

  it('after registry.resetMetrics() the HTTP request histogram counts again', async () => {
    const { app } = await buildApp()
    app.get('/orders/:id', async () => 'ok')
    for (const id of ['1', '2', '3']) await app.inject(`/orders/${id}`)
    const key = 'fastify_tasks_http_request_duration_seconds_count{method="GET",route="/orders/:id",status_code="200"}'
    assert.equal((await scrape(app)).get(key), 3)

    app.tasks.metrics!.registry.resetMetrics()
    for (const id of ['4', '5']) await app.inject(`/orders/${id}`)
    const m = await scrape(app)
    assert.equal(m.get(key), 2)
    assert.equal(
      m.get('fastify_tasks_http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/orders/:id",status_code="200"}'),
      2,
    )
    // The previous scrape's own request was observed before the reset; this one's after the body was made.
    assert.equal(m.get('fastify_tasks_http_request_duration_seconds_count{method="GET",route="/metrics",status_code="200"}'), undefined)
    assert.equal(
      (await scrape(app)).get('fastify_tasks_http_request_duration_seconds_count{method="GET",route="/metrics",status_code="200"}'),
      1,
    )
    await app.close()
  })

  it('after reset() on each of its metrics, every metric starts afresh, counts not yet scraped included', async () => {
    const { app } = await buildApp()
    app.get('/ping', async () => 'pong')
    const registry = app.tasks.metrics!.registry
    // Trips and deferrals are the scheduler's running totals; the counters must count from the reset on.
    let trips = 4
    let deferred = 2
    const snapshot = app.tasks.eventLoop.snapshot.bind(app.tasks.eventLoop)
    const summary = app.tasks.summary.bind(app.tasks)
    Object.assign(app.tasks.eventLoop, { snapshot: () => ({ ...snapshot(), trips: { ...snapshot().trips, event_loop_blocked: trips } }) })
    Object.assign(app.tasks, { summary: () => ({ ...summary(), deferred }) })
    await app.tasks.spawn('mail', () => 'sent').settled
    await app.inject('/ping')
    let m = await scrape(app)
    assert.equal(m.get('fastify_tasks_overload_trips_total{signal="event_loop_blocked"}'), 4)
    assert.equal(m.get('fastify_tasks_deferred_total'), 2)
    // Counted after the scrape, reset before the next: never shown.
    await app.tasks.spawn('mail', () => Promise.reject(new Error('smtp down'))).settled

    for (const { name } of registry.getMetricsAsArray()) if (name.startsWith('fastify_tasks_')) registry.getSingleMetric(name)!.reset()
    await app.tasks.spawn('mail', () => 'sent').settled
    await app.inject('/ping')
    trips = 5
    deferred = 3
    m = await scrape(app)
    assert.equal(m.get('fastify_tasks_spawned_total{task="mail"}'), 1)
    assert.equal(m.get('fastify_tasks_finished_total{task="mail",outcome="completed"}'), 1)
    assert.equal(m.get('fastify_tasks_finished_total{task="mail",outcome="failed"}'), 0, 'counted before the reset: gone, the series at 0')
    assert.equal(m.get('fastify_tasks_duration_seconds_count{task="mail",outcome="completed"}'), 1)
    assert.equal(m.get('fastify_tasks_duration_seconds_count{task="mail",outcome="failed"}'), undefined)
    assert.equal(m.get('fastify_tasks_queue_wait_seconds_count{task="mail"}'), 1)
    assert.equal(m.get('fastify_tasks_http_request_duration_seconds_count{method="GET",route="/ping",status_code="200"}'), 1)
    assert.equal(m.get('fastify_tasks_overload_trips_total{signal="event_loop_blocked"}'), 1)
    assert.equal(m.get('fastify_tasks_deferred_total'), 1)
    assert.equal(m.get('fastify_tasks_live{state="running"}'), 0)
    assert.equal(m.get('fastify_tasks_concurrency_limit'), app.tasks.concurrency)
    await app.close()
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
