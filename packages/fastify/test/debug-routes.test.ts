import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import Fastify, { type FastifyRequest } from 'fastify'
import fastifyTasks, {
  debugRoutes,
  ERROR_CODES,
  InvalidParameterError,
  type GroupsReport,
  type HistoryReport,
  type TasksReport,
} from '../src/index.js'
import { buildApp } from './helpers.js'

const hang = (): Promise<never> => new Promise<never>(() => {})

async function leakyApp(options: Parameters<typeof buildApp>[0] = {}): Promise<Awaited<ReturnType<typeof buildApp>>> {
  const built = await buildApp({ spawnSite: 'always', timeout: Infinity, ...options })
  built.app.get('/leak', async (request) => {
    request.tasks.spawn('call-hung-partner', hang)
    return 'ok'
  })
  return built
}

async function closeNow(app: Awaited<ReturnType<typeof buildApp>>['app']): Promise<void> {
  app.tasks.drainTimeout = 0
  const closing = app.close()
  app.tasks.cancelWhere(() => true, 'operator')
  await closing.catch(() => {})
}

describe('GET /debug/tasks', () => {
  it('groups live tasks by name, state, route and spawn site, with counts and the oldest age', async () => {
    const { app } = await leakyApp()
    for (let i = 0; i < 7; i++) await app.inject('/leak')
    app.tasks.spawn('refresh-cache', hang)
    const response = await app.inject('/debug/tasks')
    assert.equal(response.statusCode, 200)
    assert.match(String(response.headers['content-type']), /application\/json/)
    assert.equal(response.headers['cache-control'], 'no-store')
    const report = response.json<GroupsReport>()
    assert.equal(report.view, 'groups')
    assert.equal(report.summary.live.running, 8)
    assert.deepEqual(
      report.groups.map((g) => [g.name, g.state, g.route, g.count]),
      [
        ['call-hung-partner', 'running', 'GET /leak', 7],
        ['refresh-cache', 'running', null, 1],
      ],
    )
    assert.match(report.groups[0]!.site!, /debug-routes\.test\.ts:\d+$/)
    assert.equal(typeof report.groups[0]!.oldestAgeMs, 'number')
    assert.equal(typeof report.eventLoop.delayMs.p99, 'number')
    assert.equal(typeof report.eventLoop.overloaded, 'boolean')
    assert.ok(report.memory.heapUsedBytes > 0)
    assert.equal(typeof report.handles, 'object')
    await closeNow(app)
  })

  it("shows each task name's limit, what it holds and its queue wait, in JSON and text", async () => {
    const { app } = await buildApp({ limits: { fixed: { mail: 2 } }, timeout: Infinity })
    for (let i = 0; i < 5; i++) app.tasks.spawn('mail', hang)
    app.tasks.spawn('report', hang)
    const report = (await app.inject('/debug/tasks')).json<GroupsReport>()
    assert.deepEqual(
      report.limits.map((l) => [l.name, l.mode, l.limit, l.running, l.waiting, l.waitP50Ms]),
      [
        ['mail', 'fixed', 2, 2, 3, 0],
        ['report', 'adaptive', 1_000, 1, 0, 0],
      ],
    )
    assert.equal(report.limitsOmitted, 0)
    assert.equal(report.summary.limits.perName, 'adaptive')
    assert.equal(report.notes.length, 1)
    assert.match(
      report.notes[0]!,
      /^queue held by limits per task name: 3 of the waiting tasks belong to 1 name\(s\) at their limit or rate \(see the limits\); 3 waiting, the oldest for \d+ms$/,
    )
    const text = (await app.inject('/debug/tasks?format=text')).body
    assert.match(text, /LIMIT +RATE +RUNNING +WAITING +WAITED P50/)
    assert.match(text, /2 fixed +- +2 +3 +0ms .* mail/)
    await closeNow(app)
  })

  it('caps the number of groups and counts the rest', async () => {
    const { app } = await buildApp({ debug: { maxGroups: 2 }, timeout: Infinity })
    for (const name of ['a', 'b', 'c', 'd']) app.tasks.spawn(name, hang)
    const report = (await app.inject('/debug/tasks')).json<GroupsReport>()
    assert.equal(report.groups.length, 2)
    assert.equal(report.groupsOmitted, 2)
    await closeNow(app)
  })

  it('?view=tasks lists live tasks with request id, route, flags and deadline; filters and paginates', async () => {
    const { app } = await leakyApp()
    for (let i = 0; i < 5; i++) await app.inject('/leak')
    app.tasks.spawn('other', hang, { timeout: 60_000 })
    const page1 = (await app.inject('/debug/tasks?view=tasks&name=call-hung-partner&limit=3')).json<TasksReport>()
    assert.equal(page1.tasks.length, 3)
    assert.ok(page1.nextCursor !== null)
    const page2 = (
      await app.inject(`/debug/tasks?view=tasks&name=call-hung-partner&limit=3&cursor=${page1.nextCursor}`)
    ).json<TasksReport>()
    assert.equal(page2.tasks.length, 2)
    assert.equal(page2.nextCursor, null)
    const row = page1.tasks[0]!
    assert.equal(row.route, 'GET /leak')
    assert.match(String(row.requestId), /^req-/)
    assert.equal(row.state, 'running')
    assert.equal(row.deadlineInMs, null)
    assert.equal(row.stuck, false)
    const other = (await app.inject('/debug/tasks?view=tasks&name=other')).json<TasksReport>().tasks[0]!
    assert.ok(other.deadlineInMs! > 59_000)
    assert.equal((await app.inject('/debug/tasks?view=tasks&state=pending')).json<TasksReport>().tasks.length, 0)
    assert.equal((await app.inject('/debug/tasks?view=tasks&state=running,aborting')).json<TasksReport>().tasks.length, 6)
    assert.equal((await app.inject('/debug/tasks?view=tasks&olderThan=3600000')).json<TasksReport>().tasks.length, 0)
    await closeNow(app)
  })

  it('?view=history shows outcomes, durations, truncated errors and who cancelled', async () => {
    const { app } = await buildApp({ debug: { cancel: true } })
    await app.tasks.spawn('fails', () => Promise.reject(new Error('x'.repeat(500)))).settled
    const victim = app.tasks.spawn(
      'victim',
      ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))),
    )
    await app.inject({ method: 'DELETE', url: `/debug/tasks/${victim.id}` })
    await victim.settled
    const { history } = (await app.inject('/debug/tasks?view=history')).json<HistoryReport>()
    assert.deepEqual(
      history.map((h) => [h.name, h.outcome, h.reason]),
      [
        ['victim', 'cancelled', 'operator'],
        ['fails', 'failed', null],
      ],
    )
    assert.ok(history[1]!.error!.length <= 200)
    await app.close()
  })

  it('?format=text renders aligned tables a terminal can show, escaping hostile names', async () => {
    const { app } = await leakyApp()
    await app.inject('/leak')
    app.tasks.spawn('evil\nname\u001b[31m', hang)
    const response = await app.inject('/debug/tasks?format=text')
    assert.match(String(response.headers['content-type']), /text\/plain/)
    const text = response.body
    assert.match(text, /^tasks: 2 live \(pending 0, running 2, aborting 0\)/)
    assert.match(text, /event loop: delay p50 /)
    assert.match(text, /COUNT\s+STATE\s+SPAWNED AGO\s+RUNNING FOR\s+STUCK\s+LEAKED\s+TASK\s+ROUTE\s+SITE/)
    assert.match(text, /\n\s+1\s+running\s+\S+\s+\S+\s+0\s+0\s+call-hung-partner\s+GET \/leak\s+\S*debug-routes\.test\.ts:\d+/)
    assert.match(text, /SPAWNED AGO: the oldest task of the group, queue wait included · RUNNING FOR: since the earliest start/)
    assert.ok(text.includes('evil\\nname\\u001b[31m'), 'control characters are escaped')
    assert.ok(!text.includes('\u001b'), 'no raw escape character reaches the terminal')
    const tasks = (await app.inject('/debug/tasks?view=tasks&format=text')).body
    assert.match(
      tasks.split('\n')[0]!,
      /^ID\s+STATE\s+PRIO\s+SPAWNED AGO\s+STARTS IN\s+RUNNING FOR\s+NO PROGRESS\s+DEADLINE IN\s+ABORT\s+FLAGS\s+TASK\s+REQUEST\s+ROUTE\s+SITE$/,
    )
    assert.equal((await app.inject('/debug/tasks?view=history&format=text')).body, 'no terminated tasks yet\n')
    await closeNow(app)
  })

  it('answers 400 naming the parameter for every bad query value', async () => {
    const { app } = await buildApp()
    const cases: [string, RegExp][] = [
      ['view=nope', /querystring\/view/],
      ['format=xml', /querystring\/format/],
      ['state=done', /querystring\/state/],
      ['state=running,', /querystring\/state/],
      ['limit=0', /querystring\/limit/],
      ['limit=1001', /querystring\/limit/],
      ['limit=abc', /querystring\/limit/],
      ['limit=1.5', /querystring\/limit/],
      ['olderThan=-5', /querystring\/olderThan/],
      ['cursor=abc', /querystring\/cursor/],
      ['cursor=1%20OR%201=1', /querystring\/cursor/],
      [`name=${'x'.repeat(2_000)}`, /querystring\/name/],
    ]
    for (const [query, message] of cases) {
      const response = await app.inject(`/debug/tasks?${query}`)
      assert.equal(response.statusCode, 400, query)
      assert.match(response.json<{ message: string }>().message, message, query)
    }
    await app.close()
  })
})

describe('numeric parameters of the debug routes', () => {
  it('answer 400 naming the parameter for every non-finite, out-of-range or non-decimal value, in every view (limit=Infinity on view=history was a 500)', async () => {
    const { app } = await buildApp({ debug: { cancel: true } })
    const victim = app.tasks.spawn(
      'victim',
      ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))),
    )
    const bad = ['Infinity', '-Infinity', 'NaN', '1e309', '1'.repeat(58), '-1', '1.5', '', '0x10', ' 5', '5 ', '+5', '5abc', '1e3', '1,5']
    // Each parameter, with the values just past its range (and within it, below).
    const parameters: { name: string; tooBig: string[]; good: string[] }[] = [
      { name: 'limit', tooBig: ['0', '1001', '99999999999999999'], good: ['1', '100', '1000', '05'] },
      { name: 'olderThan', tooBig: ['1000000000001', '9999999999999999'], good: ['0', '3600000', '1000000000000'] },
      { name: 'cursor', tooBig: ['1'.repeat(16)], good: ['0', '1', '999999999999999'] },
    ]
    const views = ['', 'view=groups&', 'view=tasks&', 'view=history&', 'view=tasks&format=text&', 'view=history&format=text&']
    const failures: string[] = []
    for (const view of views) {
      for (const { name, tooBig, good } of parameters) {
        for (const value of [...bad, ...tooBig]) {
          const url = `/debug/tasks?${view}${name}=${encodeURIComponent(value)}`
          const response = await app.inject(url)
          const message = response.statusCode === 400 ? response.json<{ message: string }>().message : response.body.slice(0, 120)
          if (response.statusCode !== 400 || !message.includes(`querystring/${name}`))
            failures.push(`${url} → ${response.statusCode} ${message}`)
        }
        for (const value of good) {
          const url = `/debug/tasks?${view}${name}=${value}`
          const response = await app.inject(url)
          if (response.statusCode !== 200) failures.push(`${url} → ${response.statusCode} ${response.body.slice(0, 120)}, expected 200`)
        }
      }
    }
    for (const value of [...bad.filter((v) => v !== ''), '1'.repeat(16)]) {
      const url = `/debug/tasks/${encodeURIComponent(value)}`
      const response = await app.inject({ method: 'DELETE', url })
      const message = response.statusCode === 400 ? response.json<{ message: string }>().message : response.body.slice(0, 120)
      if (response.statusCode !== 400 || !message.includes('params/id')) failures.push(`DELETE ${url} → ${response.statusCode} ${message}`)
    }
    // An empty id is the path `/debug/tasks/`: still 400 naming `id`.
    const empty = await app.inject({ method: 'DELETE', url: '/debug/tasks/' })
    assert.equal(empty.statusCode, 400)
    assert.match(empty.json<{ message: string }>().message, /params\/id/)
    assert.deepEqual(failures, [])
    assert.equal((await app.inject({ method: 'DELETE', url: '/debug/tasks/999999999999999' })).statusCode, 404)
    assert.equal((await app.inject({ method: 'DELETE', url: `/debug/tasks/${victim.id}` })).statusCode, 200)
    await victim.settled
    const history = await app.inject('/debug/tasks?view=history&limit=Infinity')
    assert.deepEqual(history.json(), {
      statusCode: 400,
      code: 'FT_INVALID_PARAMETER',
      error: 'Bad Request',
      message: 'querystring/limit must be an integer from 1 to 1000, in decimal digits; received "Infinity"',
    })
    await app.close()
  })
})

describe('text views and invisible characters', () => {
  it('?format=text escapes bidirectional overrides and other format characters (Unicode Cf) in names, routes, request ids, sites and errors', async () => {
    const { app } = await buildApp({ spawnSite: 'always', timeout: Infinity, abortGrace: 0 })
    const cf = [
      '\u00ad',
      '\u061c',
      '\u180e',
      '\u200b',
      '\u200c',
      '\u200d',
      '\u200e',
      '\u200f',
      '\u202a',
      '\u202b',
      '\u202c',
      '\u202d',
      '\u202e',
      '\u2060',
      '\u2066',
      '\u2067',
      '\u2068',
      '\u2069',
      '\ufeff',
      '\u{e0001}',
    ]
    const escaped = (c: string): string => {
      const code = c.codePointAt(0)!.toString(16)
      return code.length > 4 ? `\\u{${code}}` : `\\u${code.padStart(4, '0')}`
    }
    const wait = ({ signal }: { signal: AbortSignal }): Promise<never> =>
      new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)))
    for (const c of cf) {
      app.tasks.spawn(`a${c}b`, wait, { labels: { method: `GET${c}`, route: `/r${c}` }, meta: { requestId: `req${c}` } })
    }
    // `exe\u202Egpj.ts` shows as `exejpg.ts` on a terminal: a spawn site that lies about its file. A
    // `sourceURL` gives a frame that file name without writing one to disk.
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- a fixed string, compiled for its file name
    const spawnFrom = new Function('tasks', 'wait', `return tasks.spawn('from-eval', wait)\n//# sourceURL=/srv/exe\u202egpj\u200b.ts`) as (
      tasks: typeof app.tasks,
      fn: typeof wait,
    ) => unknown
    spawnFrom(app.tasks, wait)
    for (const c of cf) await app.tasks.spawn(`failed${c}`, () => Promise.reject(new Error(`boom${c}`))).settled

    const views = {
      groups: (await app.inject('/debug/tasks?format=text')).body,
      tasks: (await app.inject('/debug/tasks?view=tasks&format=text')).body,
      history: (await app.inject('/debug/tasks?view=history&format=text')).body,
    }
    for (const [view, text] of Object.entries(views)) {
      const raw = [...text.matchAll(/\p{Cf}/gu)].map((m) => escaped(m[0]))
      assert.deepEqual(raw, [], `${view}: no raw format character reaches the terminal`)
    }
    for (const c of cf) {
      const e = escaped(c)
      assert.ok(views.groups.includes(`a${e}b`), `groups: name with ${e}`)
      assert.ok(views.groups.includes(`GET${e} /r${e}`), `groups: route with ${e}`)
      assert.ok(views.tasks.includes(`a${e}b`), `tasks: name with ${e}`)
      assert.ok(views.tasks.includes(`req${e}`), `tasks: request id with ${e}`)
      assert.ok(views.tasks.includes(`GET${e} /r${e}`), `tasks: route with ${e}`)
      assert.ok(views.history.includes(`failed${e}`), `history: name with ${e}`)
      assert.ok(views.history.includes(`Error: boom${e}`), `history: error with ${e}`)
    }
    assert.ok(views.groups.includes('/srv/exe\\u202egpj\\u200b.ts:'), 'groups: site')
    assert.ok(views.tasks.includes('/srv/exe\\u202egpj\\u200b.ts:'), 'tasks: site')
    // The JSON views carry the names as they are: JSON is not a terminal.
    const names = (await app.inject('/debug/tasks?view=tasks&limit=1')).json<TasksReport>().tasks.map((t) => t.name)
    assert.deepEqual(names, [`a${cf[0]}b`])
    app.tasks.drainTimeout = 0
    const closing = app.close()
    app.tasks.cancelWhere(() => true, 'operator')
    await closing
  })
})

describe('who may use the debug routes', () => {
  it('refuses non-loopback peers, even with X-Forwarded-For or Forwarded claiming loopback and trustProxy on', async () => {
    const app = Fastify({ trustProxy: true })
    await app.register(fastifyTasks, { debug: { cancel: true } })
    for (const headers of [{}, { 'x-forwarded-for': '127.0.0.1' }, { forwarded: 'for=127.0.0.1' }, { 'x-real-ip': '127.0.0.1' }]) {
      const response = await app.inject({ url: '/debug/tasks', remoteAddress: '203.0.113.9', headers })
      assert.equal(response.statusCode, 403, JSON.stringify(headers))
      assert.equal(response.json<{ code: string }>().code, 'FT_DEBUG_FORBIDDEN')
    }
    const del = await app.inject({ method: 'DELETE', url: '/debug/tasks?name=x', remoteAddress: '10.0.0.8' })
    assert.equal(del.statusCode, 403)
    for (const remoteAddress of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) {
      assert.equal((await app.inject({ url: '/debug/tasks', remoteAddress })).statusCode, 200, remoteAddress)
    }
    await app.close()
  })

  it('a bearer token replaces the loopback rule', async () => {
    const token = 'a-long-enough-secret-token'
    const { app } = await buildApp({ debug: { token } })
    const missing = await app.inject('/debug/tasks')
    assert.equal(missing.statusCode, 401)
    assert.equal(missing.headers['www-authenticate'], 'Bearer realm="fastify-tasks"')
    assert.equal((await app.inject({ url: '/debug/tasks', headers: { authorization: 'Bearer wrong' } })).statusCode, 401)
    const remote = await app.inject({ url: '/debug/tasks', remoteAddress: '203.0.113.9', headers: { authorization: `Bearer ${token}` } })
    assert.equal(remote.statusCode, 200)
    await app.close()
  })

  it('a guard of your own replaces the loopback rule; routes mount under a prefix', async () => {
    const app = Fastify()
    await app.register(fastifyTasks, { debug: false })
    await app.register(debugRoutes, {
      prefix: '/admin',
      guard: (request: FastifyRequest) => {
        if (request.headers['x-role'] !== 'ops') throw Object.assign(new Error('ops only'), { statusCode: 403 })
      },
    })
    assert.equal((await app.inject('/debug/tasks')).statusCode, 404)
    assert.equal((await app.inject('/admin/debug/tasks')).statusCode, 403)
    assert.equal(
      (await app.inject({ url: '/admin/debug/tasks', remoteAddress: '203.0.113.9', headers: { 'x-role': 'ops' } })).statusCode,
      200,
    )
    await app.close()
  })

  it('cancellation routes do not exist unless enabled', async () => {
    const { app } = await leakyApp()
    await app.inject('/leak')
    assert.equal((await app.inject({ method: 'DELETE', url: '/debug/tasks/1' })).statusCode, 404)
    assert.equal((await app.inject({ method: 'DELETE', url: '/debug/tasks?name=call-hung-partner' })).statusCode, 404)
    assert.equal(app.tasks.summary().live.running, 1)
    await closeNow(app)
  })

  it('DELETE by id and by name cancel with reason operator; unknown ids and aborting tasks are refused', async () => {
    const { app } = await leakyApp({ debug: { cancel: true } })
    for (let i = 0; i < 3; i++) await app.inject('/leak')
    const one = await app.inject({ method: 'DELETE', url: '/debug/tasks/1' })
    assert.equal(one.statusCode, 200)
    assert.deepEqual(one.json(), { cancelled: 1, id: '1', name: 'call-hung-partner', state: 'aborting' })
    assert.equal((await app.inject({ method: 'DELETE', url: '/debug/tasks/1' })).statusCode, 409)
    assert.equal((await app.inject({ method: 'DELETE', url: '/debug/tasks/999' })).statusCode, 404)
    assert.equal((await app.inject({ method: 'DELETE', url: '/debug/tasks/abc' })).statusCode, 400)
    assert.equal((await app.inject({ method: 'DELETE', url: '/debug/tasks' })).statusCode, 400)
    assert.deepEqual((await app.inject({ method: 'DELETE', url: '/debug/tasks?name=call-hung-partner' })).json(), {
      cancelled: 2,
      name: 'call-hung-partner',
    })
    assert.equal(app.tasks.summary().live.aborting, 3)
    await closeNow(app)
  })

  it('rejects bad debug options at registration, naming them', async () => {
    for (const [debug, option] of [
      [{ path: 'debug' }, 'debug.path'],
      [{ cancel: 'yes' }, 'debug.cancel'],
      [{ token: 'short' }, 'debug.token'],
      [{ maxGroups: 0 }, 'debug.maxGroups'],
      ['on', 'debug'],
    ] as const) {
      const app = Fastify()
      await assert.rejects(
        async () => {
          await app.register(fastifyTasks, { debug } as never)
          await app.ready()
        },
        (error: unknown) => (error as { option?: string }).option === option,
        String(option),
      )
      await app.close()
    }
  })
})

describe('GET /debug/tasks: a bad word answers 400 listing what would do', () => {
  it('names the parameter and the values it takes, not a pattern', async () => {
    const { app } = await buildApp({ debug: { cancel: true }, drainTimeout: 0 })
    const cases: [string, RegExp][] = [
      ['/debug/tasks?format=xml', /^querystring\/format must be one of json, text; received "xml"$/],
      ['/debug/tasks?format=TEXT', /^querystring\/format must be one of json, text; received "TEXT"$/],
      ['/debug/tasks?view=foo', /^querystring\/view must be one of groups, tasks, history; received "foo"$/],
      ['/debug/tasks?view=tasks&state=done', /^querystring\/state must be pending, running or aborting.*; received "done"$/],
      ['/debug/tasks?view=tasks&cursor=abc', /^querystring\/cursor must be the nextCursor of a previous page.*; received "abc"$/],
    ]
    for (const [url, message] of cases) {
      const response = await app.inject(url)
      assert.equal(response.statusCode, 400, url)
      assert.match(response.json<{ message: string }>().message, message, url)
    }
    const bad = await app.inject({ method: 'DELETE', url: '/debug/tasks/abc' })
    assert.equal(bad.statusCode, 400)
    assert.match(bad.json<{ message: string }>().message, /^params\/id must be a task id.*; received "abc"$/)
    await app.close()
  })
})

describe('debug routes: a bad parameter is a fastify-tasks error, not a made-up Fastify one', () => {
  it('answers FT_INVALID_PARAMETER naming the parameter, what it must be and what arrived; what only the schema checks stays FST_ERR_VALIDATION', async () => {
    const { app } = await buildApp({ debug: { cancel: true }, drainTimeout: 0 })
    const cases: [string, string, string][] = [
      ['GET', '/debug/tasks?limit=0x10', 'querystring/limit must be an integer from 1 to 1000, in decimal digits; received "0x10"'],
      [
        'GET',
        '/debug/tasks?limit=1&limit=2',
        'querystring/limit must be an integer from 1 to 1000, in decimal digits; received 2 values (a repeated parameter)',
      ],
      [
        'GET',
        `/debug/tasks?view=${'x'.repeat(100)}`,
        `querystring/view must be one of groups, tasks, history; received "${'x'.repeat(57)}..."`,
      ],
      [
        'DELETE',
        '/debug/tasks/1e3',
        'params/id must be a task id: the decimal digits of a live task id, or a durable job\'s id (a UUID); received "1e3"',
      ],
    ]
    for (const [method, url, message] of cases) {
      const response = await app.inject({ method: method as 'GET' | 'DELETE', url })
      assert.deepEqual(response.json(), { statusCode: 400, code: 'FT_INVALID_PARAMETER', error: 'Bad Request', message }, url)
    }
    const error = new InvalidParameterError('querystring/limit', 'an integer', '"x"')
    assert.equal(error.statusCode, ERROR_CODES.FT_INVALID_PARAMETER.statusCode)
    // Parameters that only the JSON schema checks are answered by Fastify's own validation.
    for (const url of [`/debug/tasks?name=${'x'.repeat(1_001)}`]) {
      const response = await app.inject(url)
      assert.equal(response.json<{ code: string }>().code, 'FST_ERR_VALIDATION', url)
    }
    const unnamed = await app.inject({ method: 'DELETE', url: '/debug/tasks' })
    assert.equal(unnamed.json<{ code: string }>().code, 'FST_ERR_VALIDATION')
    await app.close()
  })
})
