import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ManualClock } from '@fastify-tasks/core/testing'
import type { FastifyInstance } from 'fastify'
import { Counter, Registry } from 'prom-client'
import { ExpositionBuffer } from '../src/metrics/exposition-buffer.js'
import { defaultLabelsOf, RENDER } from '../src/metrics/exposition.js'
import { escapeLabelValue, formatSampleValue } from '../src/metrics/prometheus-text.js'
import { buildApp, flush } from './helpers.js'
import { promtool } from './prometheus.js'

/** Task names a bug or an attacker could choose: every character the text format escapes, and more. */
const HOSTILE_NAMES = [
  'quote"s',
  'new\nline',
  'back\\slash',
  'all "of\\ them\n at once',
  'trailing backslash\\',
  '\\n is not a line feed',
  'unicode ✓ タスク 🚀',
  '{label="injection"} 1',
  'x'.repeat(300),
]

/** The metrics that write their own text (the counters and histograms by task name or route). */
const SELF_RENDERING = [
  'spawned_total',
  'rejected_total',
  'finished_total',
  'retries_total',
  'leaked_total',
  'hung_total',
  'abandoned_total',
  'released_total',
  'late_settled_total',
  'duration_seconds',
  'queue_wait_seconds',
  'http_request_duration_seconds',
].map((name) => `fastify_tasks_${name}`)

/** An exposition cut into its metrics' texts, by name, in order (a metric's text has no empty line). */
function metricTexts(exposition: string): Map<string, string> {
  assert.ok(exposition.endsWith('\n') && !exposition.endsWith('\n\n'), 'one line feed at the end')
  const texts = new Map<string, string>()
  for (const text of exposition.slice(0, -1).split('\n\n')) {
    const name = /^# HELP (\S+) /.exec(text)?.[1]
    assert.ok(name !== undefined, `a metric's text starts with # HELP: ${text.slice(0, 80)}`)
    texts.set(name, text)
  }
  return texts
}

/**
 * An app whose metrics have every kind of series: hostile task names with every outcome (cancelled
 * before starting: no duration), rejections, a leak, released and late tasks, a task name seen only
 * before a histogram reset, and HTTP requests.
 */
async function appWithEverySeries(): Promise<FastifyInstance> {
  const clock = new ManualClock()
  const { app } = await buildApp({ clock, concurrency: 2, maxQueue: 2, timeout: 100, abortGrace: 50, maxGivenUpPerName: 1 })
  app.get('/orders/:id', async () => 'ok')
  await app.tasks.spawn('before-reset', () => 1).settled
  const registry = app.tasks.metrics!.registry
  for (const { name } of registry.getMetricsAsArray()) if (name.endsWith('_seconds')) registry.getSingleMetric(name)!.reset()
  await app.inject('/orders/1')
  await app.inject('/nowhere')
  for (const [i, name] of HOSTILE_NAMES.entries()) {
    await app.tasks.spawn(name, () => i).settled
    await app.tasks.spawn(name, () => Promise.reject(new Error('boom'))).settled
  }
  const held = app.tasks.spawn('holds-a-slot', () => new Promise(() => {}), { timeout: Infinity })
  let finish: () => void = () => {}
  // Times out, leaks, is evicted (and only then counted as timed out), settles late.
  app.tasks.spawn(HOSTILE_NAMES[0]!, () => new Promise<void>((resolve) => (finish = resolve)))
  app.tasks.spawn(HOSTILE_NAMES[1]!, () => 1).cancel() // waits for a slot: cancelled before it starts
  app.tasks.spawn(HOSTILE_NAMES[2]!, () => 1)
  app.tasks.spawn(HOSTILE_NAMES[2]!, () => 1)
  assert.equal(
    app.tasks.trySpawn(HOSTILE_NAMES[3]!, () => 1),
    undefined,
    'queue_full',
  )
  clock.advance(100)
  await flush()
  app.tasks.spawn(HOSTILE_NAMES[0]!, () => new Promise(() => {})) // times out too: the first is evicted to make room
  clock.advance(50)
  await flush()
  clock.advance(50)
  await flush()
  finish()
  await flush()
  held.cancel()
  await flush()
  return app
}

describe('the /metrics exposition', () => {
  it("writes every series exactly as prom-client's registry.metrics() would, hostile task names included", async () => {
    const app = await appWithEverySeries()
    const registry = app.tasks.metrics!.registry
    const ours = metricTexts((await app.tasks.metrics!.exposition()).toString())
    const theirs = metricTexts(await registry.metrics())
    assert.deepEqual([...ours.keys()], [...theirs.keys()], 'the same metrics, in the same order')
    for (const name of SELF_RENDERING) {
      assert.ok(ours.has(name), name)
      assert.equal(ours.get(name), await registry.getSingleMetricAsString(name), name)
    }
    const body = [...ours.values()].join('\n\n')
    assert.match(body, /^fastify_tasks_finished_total\{task="quote\\"s",outcome="timed_out"\} 1$/m, 'the evicted one')
    assert.match(body, /^fastify_tasks_released_total\{task="quote\\"s",release="evicted"\} 1$/m)
    assert.match(body, /^fastify_tasks_late_settled_total\{task="quote\\"s"\} 1$/m)
    assert.match(body, /^fastify_tasks_leaked_total\{task="quote\\"s"\} 1$/m)
    assert.match(body, /^fastify_tasks_rejected_total\{task="all \\"of\\\\ them\\n at once",reason="queue_full"\} 1$/m)
    assert.match(body, /^fastify_tasks_finished_total\{task="new\\nline",outcome="cancelled"\} 1$/m)
    assert.match(body, /^fastify_tasks_spawned_total\{task="back\\\\slash"\} 4$/m)
    assert.match(body, /^fastify_tasks_spawned_total\{task="\\\\n is not a line feed"\} 2$/m)
    assert.match(body, /^fastify_tasks_duration_seconds_count\{task="unicode ✓ タスク 🚀",outcome="failed"\} 1$/m)
    assert.match(body, /^fastify_tasks_http_request_duration_seconds_count\{method="GET",route="\/orders\/:id",status_code="200"\} 1$/m)
    assert.match(body, /^fastify_tasks_http_request_duration_seconds_count\{method="GET",route="\(unmatched\)",status_code="404"\} 1$/m)
    assert.doesNotMatch(
      body,
      /^fastify_tasks_duration_seconds_count\{task="before-reset"/m,
      'a series not observed since the reset is hidden',
    )
    assert.match(body, /^fastify_tasks_spawned_total\{task="before-reset"\} 1$/m)
    app.tasks.drainTimeout = 0
    await app.close()
  })

  it('passes promtool check metrics, hostile task names and hostile default labels included', async () => {
    const app = await appWithEverySeries()
    const check = async (): Promise<void> => {
      const { status, output } = promtool(['check', 'metrics'], (await app.inject('/metrics')).body)
      assert.equal(output.trim(), '', output)
      assert.equal(status, 0)
    }
    await check()
    app.tasks.metrics!.registry.setDefaultLabels({ region: 'eu "west"\\\n2', shard: 3 })
    await check()
    app.tasks.drainTimeout = 0
    await app.close()
  })

  it("writes the registry's default labels after a series' own, as prom-client does, without asking prom-client", async () => {
    const app = await appWithEverySeries()
    const registry = app.tasks.metrics!.registry
    // `task` and `le` are a series' own labels (its values win); `region` is added after them, escaped.
    registry.setDefaultLabels({ task: 'default', le: 'default', region: 'eu "west"\\\n2', shard: 3 })
    const asked: string[] = []
    const getSingleMetricAsString = registry.getSingleMetricAsString.bind(registry)
    registry.getSingleMetricAsString = (name: string) => {
      asked.push(name)
      return getSingleMetricAsString(name)
    }
    const ours = metricTexts((await app.tasks.metrics!.exposition()).toString())
    assert.deepEqual(
      asked.filter((name) => SELF_RENDERING.includes(name)),
      [],
      'the self-rendering metrics rendered themselves',
    )
    for (const name of SELF_RENDERING) assert.equal(ours.get(name), await getSingleMetricAsString(name), name)
    assert.match(
      ours.get('fastify_tasks_duration_seconds')!,
      /^fastify_tasks_duration_seconds_bucket\{le="0\.005",task="back\\\\slash",outcome="completed",region="eu \\"west\\"\\\\\\n2",shard="3"\} 3$/m,
    )
    app.tasks.drainTimeout = 0
    await app.close()
  })

  it('lets prom-client format its metrics when the probe that shows the default labels is gone', async () => {
    const app = await appWithEverySeries()
    const registry = app.tasks.metrics!.registry
    registry.setDefaultLabels({ region: 'eu' })
    const draining = registry.getSingleMetric('fastify_tasks_draining')!
    registry.removeSingleMetric('fastify_tasks_draining')
    const asked: string[] = []
    const getSingleMetricAsString = registry.getSingleMetricAsString.bind(registry)
    registry.getSingleMetricAsString = (name: string) => {
      asked.push(name)
      return getSingleMetricAsString(name)
    }
    const ours = metricTexts((await app.tasks.metrics!.exposition()).toString())
    assert.deepEqual(
      asked.filter((name) => SELF_RENDERING.includes(name)),
      SELF_RENDERING,
    )
    for (const name of SELF_RENDERING) assert.equal(ours.get(name), await getSingleMetricAsString(name), name)
    registry.registerMetric(draining)
    app.tasks.drainTimeout = 0
    await app.close()
  })

  it('is served whole by prom-client in the OpenMetrics content type, with its content type', async () => {
    const registry = new Registry()
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as never)
    const { app } = await buildApp({ metrics: { registry, processMetrics: false } })
    await app.tasks.spawn('mail', () => 'sent').settled
    const response = await app.inject('/metrics')
    assert.equal(response.headers['content-type'], Registry.OPENMETRICS_CONTENT_TYPE)
    assert.match(response.body, /^# TYPE fastify_tasks_finished counter$/m)
    assert.match(response.body, /^fastify_tasks_finished_total\{task="mail",outcome="completed"\} 1$/m)
    assert.match(response.body, /^fastify_tasks_duration_seconds_count\{task="mail",outcome="completed"\} 1$/m)
    assert.ok(response.body.endsWith('# EOF\n'))
    await app.close()
  })

  it("a user's registry scraped without the route shows every series the route serves, theirs too", async () => {
    const registry = new Registry()
    new Counter({ name: 'orders_total', help: 'Orders taken.', registers: [registry] }).inc(3)
    const { app } = await buildApp({ metrics: { registry, route: false, processMetrics: false, http: false } })
    await app.tasks.spawn('mail', () => 'sent').settled
    await app.tasks.spawn('mail', () => Promise.reject(new Error('smtp down'))).settled
    // Every sample line, values included, but those of gauges read from the clocks as they are scraped.
    const keys = (exposition: string): string[] =>
      exposition
        .split('\n')
        .filter((line) => line !== '' && !line.startsWith('#'))
        .map((line) =>
          /^fastify_tasks_(oldest_running_start_time_seconds|event_loop_utilization_ratio) /.test(line) ? line.split(' ')[0]! : line,
        )
        .sort()
    const theirs = keys(await registry.metrics())
    assert.deepEqual(theirs, keys((await app.tasks.metrics!.exposition()).toString()), 'the same lines')
    assert.ok(theirs.includes('orders_total 3'))
    assert.ok(theirs.includes('fastify_tasks_finished_total{task="mail",outcome="failed"} 1'))
    assert.ok(theirs.includes('fastify_tasks_duration_seconds_count{task="mail",outcome="completed"} 1'))
    // The other readers of a registry see them too.
    const json = await registry.getMetricsAsJSON()
    const finished = json.find((metric) => metric.name === 'fastify_tasks_finished_total')!
    assert.equal(finished.type, 'counter')
    assert.deepEqual(
      finished.values.find((value) => value.labels['outcome'] === 'completed'),
      { labels: { task: 'mail', outcome: 'completed' }, value: 1 },
    )
    assert.ok(keys(await Registry.merge([registry, new Registry()]).metrics()).includes('fastify_tasks_spawned_total{task="mail"} 2'))
    await app.close()
  })

  it('lets the event loop turn while it renders many task names', async () => {
    const { app } = await buildApp({ metrics: { maxTaskNames: 500 } })
    await Promise.all(Array.from({ length: 300 }, (_, i) => app.tasks.spawn(`task-${i}`, () => i).settled))
    let turns = 0
    let counting = true
    const count = (): void => {
      if (!counting) return
      turns++
      setImmediate(count)
    }
    setImmediate(count)
    const body = await app.tasks.metrics!.exposition()
    counting = false
    assert.ok(body.length > 512 * 1024, `a large exposition (${body.length} bytes)`)
    assert.ok(turns >= 2, `the event loop turned ${turns} times during the scrape`)
    await app.close()
  })

  it('keeps counters monotonic across scrapes', async () => {
    const { app } = await buildApp()
    const counters = async (): Promise<Map<string, number>> => {
      const values = new Map<string, number>()
      for (const line of (await app.tasks.metrics!.exposition()).toString().split('\n')) {
        const at = line.lastIndexOf(' ')
        if (/^fastify_tasks_\w+_total[{ ]/.test(line)) values.set(line.slice(0, at), Number(line.slice(at + 1)))
      }
      return values
    }
    await app.tasks.spawn('mail', () => 'sent').settled
    let before = await counters()
    for (let round = 0; round < 3; round++) {
      await app.tasks.spawn('mail', () => Promise.reject(new Error('smtp down'))).settled
      await app.tasks.spawn(`job-${round}`, () => 1).settled
      const now = await counters()
      for (const [series, value] of before) assert.ok(now.get(series)! >= value, `${series}: ${value} → ${now.get(series)}`)
      before = now
    }
    assert.equal(before.get('fastify_tasks_finished_total{task="mail",outcome="failed"}'), 3)
    await app.close()
  })
})

describe('the text format spelling', () => {
  it('escapes backslash, double quote and line feed in label values, and nothing else', () => {
    assert.equal(escapeLabelValue('plain ✓'), 'plain ✓')
    assert.equal(escapeLabelValue('a"b\\c\nd\te'), 'a\\"b\\\\c\\nd\te')
  })

  it('writes sample values digit by digit as prom-client spells them, past its first buffer too', () => {
    const values = [
      0,
      -0,
      7,
      10,
      99,
      2_147_483_647,
      2_147_483_648,
      4_294_967_295,
      4_294_967_296,
      2 ** 53,
      1e21,
      0.1 + 0.2,
      1.5e-7,
      -3,
      NaN,
      Infinity,
      -Infinity,
    ]
    const out = new ExpositionBuffer()
    const filler = 'x'.repeat(70 * 1024)
    out.text(filler)
    for (const value of values) {
      out.number(value)
      out.text(' ')
    }
    assert.equal(out.contents().toString(), `${filler}${values.map((value) => `${formatSampleValue(value)} `).join('')}`)
  })

  it('reads the default labels from the probe line prom-client writes, or says it cannot', () => {
    const text = (line: string): string => `# HELP probe x\n# TYPE probe gauge\n${line}`
    assert.deepEqual(defaultLabelsOf('probe', text('probe 0')), [])
    assert.deepEqual(defaultLabelsOf('probe', text('probe{region="eu \\"w,e}st\\"\\\\",shard="3"} 1')), [
      ['region', 'region="eu \\"w,e}st\\"\\\\"'],
      ['shard', 'shard="3"'],
    ])
    assert.equal(defaultLabelsOf('probe', text('probe_other 0')), undefined)
    assert.equal(defaultLabelsOf('probe', text('probe{region="eu} 0')), undefined)
    assert.equal(defaultLabelsOf('probe', text('other 0')), undefined)
  })

  it('every metric that renders itself has the probe its app registered', async () => {
    const { app } = await buildApp()
    const registry = app.tasks.metrics!.registry
    const self = registry.getMetricsAsArray().filter((metric) => RENDER in metric) as unknown as { name: string; probe: string }[]
    assert.deepEqual(self.map((metric) => metric.name).sort(), [...SELF_RENDERING].sort())
    for (const metric of self) assert.ok(registry.getSingleMetric(metric.probe) !== undefined, metric.name)
    await app.close()
  })
})
