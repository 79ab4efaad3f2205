import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'node:test'
import Fastify from 'fastify'
import fastifyTasks from '../src/index.js'
import { buildApp } from './helpers.js'
import { promtool, startPrometheus } from './prometheus.js'

describe('Prometheus compatibility', { timeout: 120_000 }, () => {
  it('the exposition passes promtool check metrics, hostile task names included', async () => {
    const { app } = await buildApp({ timeout: Infinity, abortGrace: 10 })
    app.get('/orders/:id', async (request) => {
      request.tasks.spawn('send-mail', () => 1)
      return 'ok'
    })
    await app.inject('/orders/1')
    for (const name of ['quote"s', 'new\nline', 'back\\slash', 'unicode ✓ タスク', 'x'.repeat(5_000), '{label="injection"} 1']) {
      await app.tasks.spawn(name, () => Promise.reject(new Error('boom'))).settled
    }
    app.tasks.spawn('hangs', () => new Promise(() => {}))
    const body = (await app.inject('/metrics')).body
    const { status, output } = promtool(['check', 'metrics'], body)
    assert.equal(output.trim(), '', output)
    assert.equal(status, 0)
    app.tasks.drainTimeout = 0
    app.tasks.cancelWhere(() => true)
    await app.close()
  })

  it('the example alerting rules pass promtool check rules', () => {
    const rules = fileURLToPath(new URL('../../../docs/reference/alert-rules.yml', import.meta.url))
    const { status, output } = promtool(['check', 'rules', rules])
    assert.equal(status, 0, output)
    assert.match(output, /SUCCESS: \d+ rules found/)
  })

  it('the alerting rules fire on the first leak, failure burst, abandonment, eviction and frequent overload (promtool test rules)', () => {
    const tests = fileURLToPath(new URL('../../../docs/reference/alert-rules.test.yml', import.meta.url))
    const { status, output } = promtool(['test', 'rules', tests])
    assert.equal(status, 0, output)
    assert.match(output, /SUCCESS/)
  })

  it('every metric the Grafana dashboard and the alerting rules use exists in a real scrape', async () => {
    const { app } = await buildApp({ timeout: 50, abortGrace: 10, drainTimeout: 0 })
    app.get('/orders/:id', async (request) => {
      request.tasks.spawn('send-mail', () => 1)
      return 'ok'
    })
    await app.inject('/orders/1')
    const exposition = (await app.inject('/metrics')).body
    const exported = new Set([...exposition.matchAll(/^# TYPE (\S+) (\w+)$/gm)].map((m) => m[1]!))
    const docs = (file: string): string => readFileSync(fileURLToPath(new URL(`../../../docs/reference/${file}`, import.meta.url)), 'utf8')
    const used = new Set<string>()
    for (const text of [docs('grafana-dashboard.json'), docs('alert-rules.yml')]) {
      for (const [name] of text.matchAll(/\b(?:fastify_tasks|nodejs|process)_[a-z0-9_]+/g))
        used.add(name.replace(/_(bucket|sum|count)$/, ''))
    }
    assert.ok(used.size >= 10, `found the metrics the docs use (${[...used].join(', ')})`)
    // The durable backend's metrics exist only on an app that has one: packages/bullmq's plugin test
    // checks those against its own scrape.
    const missing = [...used].filter((name) => !exported.has(name) && !name.startsWith('fastify_tasks_backend_'))
    assert.deepEqual(missing, [], `used by the dashboard or the rules but not exported: ${missing.join(', ')}`)
    await app.close()
  })

  it('a real Prometheus scrapes the app and stores counts that match the tasks it ran, a hostile task name included', async () => {
    const hostile = 'quote" back\\ new\nline ✓ タスク'
    const app = Fastify()
    await app.register(fastifyTasks, { timeout: Infinity })
    app.post('/orders', async (request, reply) => {
      request.tasks.spawn('send-confirmation', () => 'sent')
      request.tasks.spawn('post-analytics', () => Promise.reject(new Error('partner 502')))
      request.tasks.spawn(hostile, () => 'done')
      return reply.code(202).send()
    })
    // Scrapes as they begin, so the test waits for Prometheus's own steps instead of polling it.
    let scrapesBegun = 0
    let scrapeWaiters: { at: number; resolve: () => void }[] = []
    app.addHook('onRequest', async (request) => {
      if (request.url !== '/metrics') return
      scrapesBegun++
      for (const waiter of scrapeWaiters) if (waiter.at <= scrapesBegun) waiter.resolve()
      scrapeWaiters = scrapeWaiters.filter((waiter) => waiter.at > scrapesBegun)
    })
    /** Resolves once the `n`th scrape has begun; rejects after `ms`. */
    const scrapeBegins = async (n: number, ms: number): Promise<void> => {
      if (scrapesBegun >= n) return
      let timer: NodeJS.Timeout | undefined
      try {
        await new Promise<void>((resolve, reject) => {
          timer = setTimeout(() => reject(new Error(`scrape ${n} did not begin within ${ms} ms (${scrapesBegun} so far)`)), ms)
          scrapeWaiters.push({ at: n, resolve })
        })
      } finally {
        clearTimeout(timer)
      }
    }
    const address = await app.listen({ port: 0, host: '127.0.0.1' })
    const prometheus = await startPrometheus(new URL(address).host)
    try {
      for (let i = 0; i < 7; i++) await app.inject({ method: 'POST', url: '/orders' })
      const expected = new Map([
        ['send-confirmation/completed', 7],
        ['post-analytics/failed', 7],
        [`${hostile}/completed`, 7],
      ])
      // The tasks have settled. The next scrape reads their counts; Prometheus stores what it read
      // before it begins the one after (1 s apart): once that one begins, the counts are queryable.
      await scrapeBegins(scrapesBegun + 2, 60_000)
      const result = await prometheus.query('fastify_tasks_finished_total')
      // Every outcome of a seen name is exported, at 0 until it happens: compare the others.
      const seen = new Map(
        result.map((r) => [`${r.metric['task']}/${r.metric['outcome']}`, Number(r.value[1])] as const).filter(([, v]) => v !== 0),
      )
      assert.deepEqual(seen, expected)
      const spawned = await prometheus.query('sum by (task) (fastify_tasks_spawned_total)')
      assert.deepEqual(Object.fromEntries(spawned.map((r) => [r.metric['task'], Number(r.value[1])])), {
        'send-confirmation': 7,
        'post-analytics': 7,
        [hostile]: 7,
      })
      const http = await prometheus.query('fastify_tasks_http_request_duration_seconds_count{route="/orders"}')
      assert.equal(Number(http[0]?.value[1]), 7)
      const up = await prometheus.query('up{job="fastify-tasks-test"}')
      assert.equal(up[0]?.value[1], '1')
    } finally {
      await prometheus.stop()
      await app.close()
    }
  })
})
