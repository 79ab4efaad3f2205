import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Type } from '@sinclair/typebox'
import fastifyTasks, { defineTask, InvalidOptionError, type Settlement } from '../src/index.js'
import { ManualClock } from '@fastify-tasks/core/testing'
import { buildApp, deferred, flush, LEVEL } from './helpers.js'
import Fastify from 'fastify'

const orderSchema = {
  type: 'object',
  required: ['orderId'],
  additionalProperties: false,
  properties: { orderId: { type: 'string', minLength: 1 }, items: { type: 'array', items: { type: 'integer' } } },
} as const

describe('named tasks in fastify-tasks', () => {
  it('request.tasks.spawn(definition, payload) runs it with the request id, route and a child logger; the payload is checked by Ajv', async () => {
    const ran = deferred<{ payload: unknown; attempt: number; meta: unknown }>()
    const confirm = defineTask('send-confirmation', {
      payload: orderSchema,
      timeout: 5_000,
      run: async (payload: { orderId: string; items?: number[] }, { log, attempt, meta }) => {
        log.info({ orderId: payload.orderId }, 'confirmation sent')
        ran.resolve({ payload, attempt, meta })
        return { sent: payload.orderId }
      },
    })
    const { app, logs } = await buildApp({ tasks: [confirm] })
    let settled: Promise<Settlement<{ sent: string }>> | undefined
    app.post('/orders/:id', async (request) => {
      const handle = request.tasks.spawn(confirm, { orderId: (request.params as { id: string }).id, items: [1, 2] })
      settled = handle.settled
      return { task: handle.id }
    })
    const response = await app.inject({ method: 'POST', url: '/orders/o-7' })
    assert.equal(response.statusCode, 200)
    const { payload, attempt, meta } = await ran.promise
    assert.deepEqual(payload, { orderId: 'o-7', items: [1, 2] })
    assert.equal(attempt, 1)
    assert.equal((meta as { route: string }).route, '/orders/:id')
    assert.deepEqual(await settled, { outcome: 'completed', value: { sent: 'o-7' } })
    const line = logs.find((l) => l.msg === 'confirmation sent')!
    assert.equal(line['task'], 'send-confirmation')
    assert.equal(line['reqId'], (meta as { requestId: string }).requestId)
    await app.close()
  })

  it('a payload that fails the schema is a 500 at the call site naming the place, and nothing is queued; no coercion, nothing removed', async () => {
    const confirm = defineTask('send-confirmation', { payload: orderSchema, run: () => undefined })
    const { app } = await buildApp({ tasks: [confirm] })
    app.post('/bad', async (request) => {
      request.tasks.spawn(confirm, request.body as never)
      return 'queued'
    })
    const cases: [unknown, RegExp][] = [
      // Fastify's route validation would coerce 7 to "7"; a task payload is never changed.
      [{ orderId: 7 }, /payload\.orderId must be string/],
      [{ orderId: 'o', items: [1, 'x'] }, /payload\.items\[1\] must be integer/],
      [{ orderId: 'o', extra: true }, /payload must NOT have additional properties/],
      [{}, /payload must have required property 'orderId'/],
    ]
    for (const [body, message] of cases) {
      const response = await app.inject({ method: 'POST', url: '/bad', payload: body as object })
      assert.equal(response.statusCode, 500, JSON.stringify(body))
      const error = response.json<{ code: string; message: string }>()
      assert.equal(error.code, 'FT_INVALID_PAYLOAD')
      assert.match(error.message, message)
      assert.match(error.message, /^Invalid payload for task "send-confirmation"/)
    }
    assert.equal(app.tasks.summary().spawned, 0)
    await app.close()
  })

  it('a TypeBox schema validates (and types) the payload', async () => {
    const resize = defineTask('resize-image', {
      payload: Type.Object({ url: Type.String({ format: 'uri' }), width: Type.Integer({ minimum: 1 }) }),
      run: ({ url, width }) => `${url}@${width}`,
    })
    const { app } = await buildApp({ tasks: [resize] })
    assert.deepEqual(await app.tasks.spawn(resize, { url: 'https://example.test/a.png', width: 64 }).settled, {
      outcome: 'completed',
      value: 'https://example.test/a.png@64',
    })
    assert.throws(() => app.tasks.spawn(resize, { url: 'not a uri', width: 64 }), /payload\.url must match format "uri"/)
    assert.throws(() => app.tasks.spawn(resize, { url: 'https://example.test/', width: 0 }), /payload\.width must be >= 1/)
    await app.close()
  })

  it('app.tasks.spawn(definition) logs through app.log; trySpawn returns undefined when refused', async () => {
    const hold = deferred()
    const job = defineTask('nightly', {
      run: async (_: undefined, { log }) => {
        log.warn('running')
        await hold.promise
      },
    })
    const { app, logs } = await buildApp({ tasks: [job], concurrency: 1, maxQueue: 0 })
    const handle = app.tasks.spawn(job, undefined)
    assert.equal(app.tasks.trySpawn(job, undefined), undefined)
    hold.resolve()
    assert.equal((await handle.settled).outcome, 'completed')
    const line = logs.find((l) => l.msg === 'running')!
    assert.equal(line.level, LEVEL.warn)
    assert.equal(line['task'], 'nightly')
    assert.equal(line['reqId'], undefined)
    await app.close()
  })

  it('an unregistered definition is a clear 500 naming the task', async () => {
    const known = defineTask('known', { run: () => undefined })
    const other = defineTask('not-registered', { run: () => undefined })
    const { app } = await buildApp({ tasks: [known] })
    app.get('/', async (request) => {
      request.tasks.spawn(other, undefined)
      return 'ok'
    })
    const response = await app.inject('/')
    assert.equal(response.statusCode, 500)
    assert.equal(response.json<{ code: string }>().code, 'FT_UNKNOWN_TASK')
    assert.match(
      response.json<{ message: string }>().message,
      /Task "not-registered" is not registered: pass its definition in the `tasks` option/,
    )
    await app.close()
  })

  it('registration refuses a schema Ajv cannot compile, naming the definition', async () => {
    const typo = defineTask('typo', { payload: { type: 'object', propertiez: {} }, run: () => undefined })
    const app = Fastify({ logger: false })
    await assert.rejects(
      async () => {
        await app.register(fastifyTasks, { tasks: [typo] })
        await app.ready()
      },
      (error: unknown) => error instanceof InvalidOptionError && error.option === 'tasks[0].payload' && /propertiez/.test(error.message),
    )
    await app.close()
  })

  it('compileSchema can be replaced', async () => {
    const seen: string[] = []
    const task = defineTask('custom', { payload: { anything: true }, run: () => 'ran' })
    const { app } = await buildApp({
      tasks: [task],
      compileSchema: (_schema, name) => {
        seen.push(name)
        return (payload) => (payload === 'ok' ? undefined : { path: 'payload', problem: 'must be "ok"' })
      },
    })
    assert.deepEqual(seen, ['custom'])
    assert.throws(() => app.tasks.spawn(task, 'no'), /payload must be "ok"/)
    assert.equal((await app.tasks.spawn(task, 'ok').settled).outcome, 'completed')
    await app.close()
  })

  it('a retried task: a warning per failed attempt with the request id, retries_total, attempts in history, the wait in view=tasks', async () => {
    let calls = 0
    const flaky = defineTask('flaky-partner', {
      retries: 2,
      backoff: { type: 'fixed', delay: 20 },
      run: async (_: undefined, { attempt }) => {
        calls++
        if (attempt < 3) throw new Error(`partner said no (${attempt})`)
        return 'ok'
      },
    })
    const waits = defineTask('waits', { retries: 1, backoff: { delay: 60_000 }, run: () => Promise.reject(new Error('later')) })
    const { app, logs } = await buildApp({ tasks: [flaky, waits], logInterval: 0 })
    let settled: Promise<Settlement<string>> | undefined
    let requestId: string | undefined
    app.post('/sync', async (request) => {
      requestId = request.id
      settled = request.tasks.spawn(flaky, undefined).settled
      request.tasks.spawn(waits, undefined)
      return 'ok'
    })
    await app.inject({ method: 'POST', url: '/sync' })
    assert.deepEqual(await settled, { outcome: 'completed', value: 'ok' })
    assert.equal(calls, 3)
    const warnings = logs.filter((l) => l.msg === 'background task attempt failed; it will be retried' && l['task'] === 'flaky-partner')
    assert.deepEqual(
      warnings.map((l) => [l['attempt'], l['retryInMs'], (l['err'] as { message: string }).message]),
      [
        [1, 20, 'partner said no (1)'],
        [2, 20, 'partner said no (2)'],
      ],
    )
    assert.ok(requestId !== undefined)
    assert.ok(warnings.every((l) => l['reqId'] === requestId))
    const metrics = (await app.inject('/metrics')).body
    assert.match(metrics, /^fastify_tasks_retries_total\{task="flaky-partner"\} 2$/m)
    const history = (await app.inject('/debug/tasks?view=history')).json<{ history: { name: string; attempts: number }[] }>()
    assert.equal(history.history.find((h) => h.name === 'flaky-partner')!.attempts, 3)
    assert.match((await app.inject('/debug/tasks?view=history&format=text')).body, /ATTEMPTS/)
    // The other one waits a minute for its second attempt: pending, delayed, its wait shown.
    const tasks = (await app.inject('/debug/tasks?view=tasks')).json<{
      tasks: { name: string; attempt: number; startsInMs: number; state: string }[]
    }>()
    const row = tasks.tasks.find((t) => t.name === 'waits')!
    assert.equal(row.state, 'pending')
    assert.equal(row.attempt, 2)
    // Its countdown is checked exactly on a manual clock (the next test); here it is only there.
    assert.equal(typeof row.startsInMs, 'number')
    assert.match((await app.inject('/debug/tasks?format=text')).body, /pending 1 of which 1 delayed/)
    // A task waiting for its retry is not a queue that does not move.
    assert.deepEqual((await app.inject('/debug/tasks')).json<{ notes: string[] }>().notes, [])
    assert.match((await app.inject('/debug/tasks?view=tasks&format=text')).body, /attempt 2/)
    // Closing drops it (it would not start within the drain) instead of waiting a minute.
    await app.close()
    assert.equal(app.tasks.history().find((h) => h.name === 'waits')!.outcome, 'dropped')
  })

  it('a task waiting for its retry counts its backoff down in /debug/tasks (manual clock)', async () => {
    const clock = new ManualClock()
    const waits = defineTask('waits', { retries: 1, backoff: { delay: 60_000 }, run: () => Promise.reject(new Error('later')) })
    const { app } = await buildApp({ tasks: [waits], clock, logInterval: 0, backpressure: false })
    app.tasks.spawn(waits, undefined)
    await flush()
    const startsIn = async (): Promise<number | null> =>
      (await app.inject('/debug/tasks?view=tasks'))
        .json<{ tasks: { name: string; startsInMs: number | null }[] }>()
        .tasks.find((t) => t.name === 'waits')!.startsInMs
    assert.equal(await startsIn(), 60_000)
    clock.advance(15_000)
    assert.equal(await startsIn(), 45_000)
    app.tasks.drainTimeout = 0
    const closing = app.close()
    for (let i = 0; i < 5; i++) {
      await flush()
      clock.advance(60_000)
    }
    await closing
  })

  it('app.tasks.repeat() spawns a named task on an interval, shown in /debug/tasks and stopped by close', async () => {
    const runs: string[] = []
    const refresh = defineTask('refresh-rates', {
      run: async ({ currency }: { currency: string }, { log, meta }) => {
        runs.push(currency)
        log.info({ schedule: meta?.['schedule'] }, 'rates refreshed')
      },
    })
    const { app, logs } = await buildApp({ tasks: [refresh] })
    const handle = app.tasks.repeat('rates', refresh, { currency: 'EUR' }, { every: 20, immediately: true })
    // More schedules than the debug route shows: counted, not lost.
    const capped = await buildApp({ tasks: [refresh], debug: { maxGroups: 2 } })
    for (const id of ['a', 'b', 'c']) capped.app.tasks.repeat(id, refresh, { currency: id }, { every: 60_000 })
    const cappedReport = (await capped.app.inject('/debug/tasks')).json<{ schedules: unknown[]; schedulesOmitted: number }>()
    assert.equal(cappedReport.schedules.length, 2)
    assert.equal(cappedReport.schedulesOmitted, 1)
    assert.match((await capped.app.inject('/debug/tasks?format=text')).body, /… and 1 more schedules/)
    await capped.app.close()
    // Bounded: at most 2 s of real time for a few turns of 20 ms.
    for (let i = 0; i < 200 && runs.length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 10))
    assert.ok(runs.length >= 3, `ran ${runs.length} times`)
    app.tasks.repeat('nightly', refresh, { currency: 'USD' }, { cron: '0 3 * * *', tz: 'Europe/Paris' })
    const report = (await app.inject('/debug/tasks')).json<{
      schedules: {
        id: string
        name: string
        every: number | null
        cron: string | null
        tz: string | null
        spawned: number
        where: string
      }[]
    }>()
    assert.equal(report.schedules.length, 2)
    assert.equal(report.schedules[0]!.id, 'rates')
    assert.equal(report.schedules[0]!.name, 'refresh-rates')
    assert.equal(report.schedules[0]!.where, 'memory')
    assert.ok(report.schedules[0]!.spawned >= 3)
    assert.deepEqual((({ every, cron, tz, spawned }) => ({ every, cron, tz, spawned }))(report.schedules[1]!), {
      every: null,
      cron: '0 3 * * *',
      tz: 'Europe/Paris',
      spawned: 0,
    })
    const text = (await app.inject('/debug/tasks?format=text')).body
    assert.match(
      text,
      /SCHEDULE +EVERY \/ CRON +NEXT IN +SPAWNED +SKIPPED +REFUSED +WHERE +TASK\n *rates +20ms +\S+ +\d+ +\d+ +0 +memory +refresh-rates\n/,
    )
    assert.match(text, /\n *nightly +0 3 \* \* \* Europe\/Paris +\S+ +0 +0 +0 +memory +refresh-rates\n/)
    const line = logs.find((l) => l.msg === 'rates refreshed')!
    assert.equal(line['schedule'], 'rates')
    assert.equal(line['task'], 'refresh-rates')
    await app.close()
    const after = runs.length
    await new Promise((resolve) => setTimeout(resolve, 60))
    assert.equal(runs.length, after, 'no turn after close')
    assert.equal(handle.stop(), false, 'close stopped it')
  })

  it('a name held by its rate limit is explained in /debug/tasks (note, rate in the limits)', async () => {
    const { app } = await buildApp({ limits: { rate: { 'send-sms': { max: 1, duration: 60_000 } } } })
    for (let i = 0; i < 3; i++) app.tasks.spawn('send-sms', () => 'sent')
    const report = (await app.inject('/debug/tasks')).json<{
      notes: string[]
      limits: { name: string; rate: { max: number; startsInWindow: number; heldForMs: number } | null }[]
    }>()
    assert.match(
      report.notes[0]!,
      /^queue held by limits per task name: 2 of the waiting tasks belong to 1 name\(s\) at their limit or rate/,
    )
    const row = report.limits.find((l) => l.name === 'send-sms')!
    assert.equal(row.rate!.max, 1)
    assert.equal(row.rate!.startsInWindow, 1)
    assert.ok(row.rate!.heldForMs > 50_000)
    assert.match((await app.inject('/debug/tasks?format=text')).body, /1\/1m00s held/)
    await app.close()
  })
})
