import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { describe, it } from 'node:test'
import Fastify from 'fastify'
import fastifyTasks, { InvalidOptionError } from 'fastify-tasks'
import { buildApp } from './helpers.js'

const MALFORMED = [
  '',
  ' ',
  '-1',
  '-0',
  '0',
  '1e309',
  '1e3',
  'NaN',
  'Infinity',
  'abc',
  '1.5',
  '0x10',
  '9'.repeat(40),
  "' OR 1=1 --",
  '"; DROP TABLE tasks; --',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  '%00',
  '%0d%0aSet-Cookie:%20x=1',
  '${process.env}',
  '__proto__',
  'constructor',
  '{"$gt":""}',
  '[]',
  'true',
  'タスク',
  '\u202e',
  'x'.repeat(10_000),
]
const PARAMS = ['view', 'format', 'state', 'name', 'olderThan', 'limit', 'cursor']

describe('bad input and security', () => {
  // "Never a hang": every request below is awaited in turn, so one that never answered would stall the
  // test; the timeout turns that into a failure. It is a budget for the whole run, not a measurement.
  it(
    'fuzzes every query and path parameter of the debug routes: 400 naming the parameter, never 500, never a hang',
    { timeout: 60_000 },
    async (t) => {
      const { app } = await buildApp({ debug: { cancel: true }, timeout: Infinity }, false)
      for (let i = 0; i < 20; i++) app.tasks.spawn(`task-${i % 3}`, () => new Promise(() => {}))
      const statuses = new Map<number, number>()
      let cases = 0
      // What each kind of request may answer. A malformed id never cancels anything (no 200), nor does a
      // name no task has; no task is aborting, so no 409.
      const expected = { GET: [200, 400], 'DELETE id': [400, 404, 414], 'DELETE name': [200, 400] }
      const check = async (method: 'GET' | 'DELETE', url: string, param: string): Promise<void> => {
        cases++
        const response = await app.inject({ method, url })
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1)
        const kind = method === 'GET' ? 'GET' : param === 'id' ? 'DELETE id' : 'DELETE name'
        assert.ok(expected[kind].includes(response.statusCode), `${method} ${url.slice(0, 120)} answered ${response.statusCode}`)
        if (response.statusCode === 400) {
          const message = response.json<{ message: string }>().message
          assert.ok(
            message.includes(param) || message.includes('querystring') || message.includes('params'),
            `400 for ${param} says ${message}`,
          )
        }
      }
      for (const param of PARAMS) {
        for (const value of MALFORMED) {
          await check('GET', `/debug/tasks?${param}=${encodeURIComponent(value)}`, param)
          await check('GET', `/debug/tasks?view=tasks&${param}=${encodeURIComponent(value)}`, param)
        }
        await check('GET', `/debug/tasks?${param}=1&${param}=2`, param)
      }
      for (const value of MALFORMED) {
        await check('DELETE', `/debug/tasks/${encodeURIComponent(value)}`, 'id')
        await check('DELETE', `/debug/tasks?name=${encodeURIComponent(value)}`, 'name')
      }
      // Bad values were refused, so the 400 branch above did run.
      assert.ok((statuses.get(400) ?? 0) > 0, `no request was answered 400: ${JSON.stringify(Object.fromEntries(statuses))}`)
      // Still responsive afterwards, holding the same tasks: no request wedged the app or touched a task.
      const after = await app.inject('/debug/tasks')
      assert.equal(after.statusCode, 200)
      assert.deepEqual(after.json<{ summary: { live: unknown } }>().summary.live, {
        pending: 0,
        delayed: 0,
        running: 20,
        aborting: 0,
        total: 20,
      })
      t.diagnostic(
        `debug route fuzzing: ${cases} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}, no 500; still answering with the 20 tasks untouched`,
      )
      app.tasks.drainTimeout = 0
      app.tasks.cancelWhere(() => true)
      await app.close()
    },
  )

  it('every plugin option and spawn option given a wrong type or value fails at once, naming it', async (t) => {
    const pluginCases: [Record<string, unknown>, string][] = [
      [{ concurrency: 0 }, 'concurrency'],
      [{ concurrency: '8' }, 'concurrency'],
      [{ maxQueue: -1 }, 'maxQueue'],
      [{ overflow: 'drop-newest' }, 'overflow'],
      [{ timeout: -5 }, 'timeout'],
      [{ timeout: '30s' }, 'timeout'],
      [{ abortGrace: Infinity }, 'abortGrace'],
      [{ stuckAfter: null }, 'stuckAfter'],
      [{ agingInterval: 0 }, 'agingInterval'],
      [{ historySize: 1e9 }, 'historySize'],
      [{ spawnSite: 'yes' }, 'spawnSite'],
      [{ siteIgnore: 'dist' }, 'siteIgnore'],
      [{ retryAfter: -1 }, 'retryAfter'],
      [{ admission: 1 }, 'admission'],
      [{ startGate: {} }, 'startGate'],
      [{ clock: {} }, 'clock'],
      [{ drainTimeout: -1 }, 'drainTimeout'],
      [{ drainTimeout: Infinity }, 'drainTimeout'],
      [{ unknownOption: 1 }, 'options.unknownOption'],
      [{ debug: 'on' }, 'debug'],
      [{ debug: { path: 'x' } }, 'debug.path'],
      [{ debug: { token: 'short' } }, 'debug.token'],
      [{ debug: { maxGroups: 0 } }, 'debug.maxGroups'],
      [{ metrics: 1 }, 'metrics'],
      [{ metrics: { prefix: '1x' } }, 'metrics.prefix'],
      [{ metrics: { maxTaskNames: -1 } }, 'metrics.maxTaskNames'],
      [{ metrics: { durationBuckets: [2, 1] } }, 'metrics.durationBuckets'],
      [{ eventLoop: { window: 0 } }, 'eventLoop.window'],
      [{ eventLoop: { maxDelay: -1 } }, 'eventLoop.maxDelay'],
      [{ eventLoop: { maxUtilization: 2 } }, 'eventLoop.maxUtilization'],
      [{ backpressure: 'on' }, 'backpressure'],
      [{ backpressure: { admitWhenOverloaded: 'urgent' } }, 'backpressure.admitWhenOverloaded'],
      [{ backpressure: { onOverload: 'drop' } }, 'backpressure.onOverload'],
      [{ backpressure: { adaptive: { min: 0 } } }, 'backpressure.adaptive.min'],
      [{ eventLoop: { maxDelai: 5 } }, 'eventLoop.maxDelai'],
      [{ backpressure: { adaptiv: {} } }, 'backpressure.adaptiv'],
      [{ backpressure: { adaptive: { target: 5 } } }, 'backpressure.adaptive.target'],
      [{ debug: { cancle: true } }, 'debug.cancle'],
      [{ metrics: { prefx: 'x_' } }, 'metrics.prefx'],
      [{ backpressure: { underPressure: { maxRssBytes: -1 } } }, 'backpressure.underPressure.maxRssBytes'],
      [{ backpressure: { underPressure: { maxRss: 1 } } }, 'backpressure.underPressure.maxRss'],
    ]
    for (const [options, option] of pluginCases) {
      const app = Fastify()
      await assert.rejects(
        async () => {
          await app.register(fastifyTasks, options as never)
          await app.ready()
        },
        (error: unknown) => error instanceof InvalidOptionError && error.option === option && error.message.includes(option),
        `${JSON.stringify(options)} should name ${option}`,
      )
      await app.close()
    }
    const { app } = await buildApp({}, false)
    const spawnCases: [unknown[], string][] = [
      [['', () => 1], 'spawn(name)'],
      [[42, () => 1], 'spawn(name)'],
      [['x', 'fn'], 'spawn(fn)'],
      [['x', () => 1, 'opts'], 'spawn(options)'],
      [['x', () => 1, { timeout: -1 }], 'spawn(options.timeout)'],
      [['x', () => 1, { priority: 'urgent' }], 'spawn(options.priority)'],
      [['x', () => 1, { key: '' }], 'spawn(options.key)'],
      [['x', () => 1, { onDuplicate: 'merge' }], 'spawn(options.onDuplicate)'],
      [['x', () => 1, { labels: { a: 1 } }], 'spawn(options.labels.a)'],
      [['x', () => 1, { meta: { a: {} } }], 'spawn(options.meta.a)'],
      [['x', () => 1, { data: 1 }], 'spawn(options.data)'],
      [['x', () => 1, { timeOut: 5 }], 'spawn(options).timeOut'],
    ]
    for (const [args, option] of spawnCases) {
      assert.throws(
        () => (app.tasks.spawn as (...a: unknown[]) => unknown)(...args),
        (error: unknown) => error instanceof InvalidOptionError && error.option === option,
        option,
      )
    }
    assert.equal(app.tasks.summary().spawned, 0)
    await app.close()
    t.diagnostic(
      `options: ${pluginCases.length} bad plugin options and ${spawnCases.length} bad spawn calls, each refused at once with InvalidOptionError naming it`,
    )
  })

  it('debug routes: loopback peers only (forwarded headers ignored), cancellation off unless enabled, nothing secret revealed', async (t) => {
    const secret = 'sk_live_do_not_leak_42'
    process.env['FT_RELIABILITY_SECRET'] = secret
    const app = Fastify({ trustProxy: true })
    await app.register(fastifyTasks, { timeout: Infinity })
    const argument = { card: secret, env: process.env['FT_RELIABILITY_SECRET'] }
    app.post('/pay', async (request) => {
      request.tasks.spawn('charge', () => new Promise(() => void argument), { meta: { amount: 12 } })
      return 'ok'
    })
    await app.inject({ method: 'POST', url: '/pay' })
    await app.tasks.spawn('failing', () => Promise.reject(new Error('declined'))).settled
    let refused = 0
    for (const headers of [
      {},
      { 'x-forwarded-for': '127.0.0.1' },
      { forwarded: 'for=127.0.0.1' },
      { 'x-forwarded-for': '::1' },
      { 'x-real-ip': '127.0.0.1' },
    ]) {
      for (const url of ['/debug/tasks', '/debug/tasks?view=tasks', '/debug/tasks?view=history', '/debug/tasks?format=text']) {
        const response = await app.inject({ url, remoteAddress: '198.51.100.7', headers })
        assert.equal(response.statusCode, 403, `${url} ${JSON.stringify(headers)}`)
        refused++
      }
    }
    assert.equal((await app.inject({ method: 'DELETE', url: '/debug/tasks/1' })).statusCode, 404, 'no cancellation route unless enabled')
    const bodies = await Promise.all(
      [
        '/debug/tasks',
        '/debug/tasks?view=tasks',
        '/debug/tasks?view=history',
        '/debug/tasks?format=text',
        '/debug/tasks?view=tasks&format=text',
        '/metrics',
      ].map(async (url) => (await app.inject(url)).body),
    )
    for (const body of bodies) {
      assert.ok(!body.includes(secret), 'no task argument, closure or environment value in any response')
      assert.ok(!body.includes('new Promise'), 'no function source')
    }
    app.tasks.drainTimeout = 0
    app.tasks.cancelWhere(() => true)
    await app.close()
    delete process.env['FT_RELIABILITY_SECRET']
    t.diagnostic(
      `security: ${refused} non-loopback requests refused (with and without forwarded headers, trustProxy on); DELETE absent; ${bodies.length} responses checked for a secret held by a task: none revealed it`,
    )
  })

  it('hostile task names and labels cannot break the Prometheus exposition or the text view', async (t) => {
    const hostile = [
      'new\nline',
      'quote"d',
      'back\\slash',
      '\r\ncarriage',
      'tab\there',
      '\u0000nul',
      '\u001b[31mred',
      'unicode ✓ タスク \u202e',
      'x'.repeat(20_000),
      '# HELP injected',
      '} 1\nfake_metric 1',
    ]
    const { app } = await buildApp({ timeout: Infinity, abortGrace: 10 }, false)
    app.get('/h', async (request) => {
      for (const name of hostile) request.tasks.spawn(name, () => new Promise(() => {}), { labels: { tenant: name.slice(0, 200) } })
      return 'ok'
    })
    await app.inject('/h')
    for (const name of hostile) await app.tasks.spawn(name, () => Promise.reject(new Error(name))).settled
    const exposition = (await app.inject('/metrics')).body
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' })
    if (promtool.error !== undefined) throw new Error('promtool is not installed: run `bash .ci/install-test-deps`')
    assert.equal(promtool.status, 0, promtool.stdout + promtool.stderr)
    assert.doesNotMatch(exposition, /^fake_metric/m)
    for (const url of ['/debug/tasks?format=text', '/debug/tasks?view=tasks&format=text', '/debug/tasks?view=history&format=text']) {
      const text = (await app.inject(url)).body
      // eslint-disable-next-line no-control-regex -- looking for control characters is the point
      assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f\u2028\u2029]/.test(text), `${url}: no raw control characters`)
      for (const line of text.split('\n')) assert.ok(line.length < 1_000, `${url}: lines stay short`)
    }
    const json = (await app.inject('/debug/tasks')).json<{ groups: { name: string }[] }>()
    assert.ok(json.groups.every((g) => g.name.length <= 200))
    app.tasks.drainTimeout = 0
    app.tasks.cancelWhere(() => true)
    await app.close()
    t.diagnostic(
      `hostile names: ${hostile.length} names as tasks and labels; promtool accepts the exposition; text views carry no raw control characters and no line over 1 000 characters`,
    )
  })
})
