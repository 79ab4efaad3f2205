import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyTasks, { defineTask } from 'fastify-tasks'
import { Scheduler } from '@fastify-tasks/core'
import { bullmqBackend } from '../src/index.js'
import { startRedis, type RedisServer } from '@fastify-tasks/redis-server'
import { until } from './helpers.js'

let redis: RedisServer
before(async () => {
  redis = await startRedis()
})
after(async () => {
  await redis.close()
})

describe('fastify-tasks on the bullmq backend', { timeout: 60_000 }, () => {
  let app: FastifyInstance
  const logged: string[] = []
  const lines: Record<string, unknown>[] = []
  const confirm = defineTask('send-confirmation', {
    payload: { type: 'object', required: ['orderId'], properties: { orderId: { type: 'string' } }, additionalProperties: false },
    run: ({ orderId }: { orderId: string }, { log }) => {
      log.info({ orderId }, 'confirmation sent')
      logged.push(orderId)
      return { sent: orderId }
    },
  })

  const hold = defineTask('hold', {
    run: (_: undefined, { signal }) =>
      new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))),
  })

  before(async () => {
    const backend = bullmqBackend({ connection: redis.url, queue: `plugin-${process.pid}`, admissionTimeout: 500, onError: () => {} })
    app = Fastify({
      logger: {
        level: 'info',
        stream: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
      },
    })
    await app.register(fastifyTasks, { tasks: [confirm, hold], backend, backpressure: false, debug: { cancel: true } })
    app.post<{ Body: { orderId: string } }>('/orders', async (request) => {
      const handle = request.tasks.spawn(confirm, { orderId: request.body.orderId })
      // Persisted before the answer: from here the task runs at least once.
      await handle.admitted
      return { task: handle.id, request: request.id }
    })
    await app.ready()
    await backend.ready()
  })
  after(async () => {
    await app.close()
  })

  it('a handler awaits admission, the job runs, and /debug/tasks and /metrics show its run', async () => {
    const response = await app.inject({ method: 'POST', url: '/orders', payload: { orderId: 'o-1' } })
    assert.equal(response.statusCode, 200)
    const { task, request } = response.json<{ task: string; request: string }>()
    await until(() => logged.includes('o-1'))
    let entry: { id: string; outcome: string; route: string | null; requestId: string | null } | undefined
    await until(async () => {
      const report = (await app.inject({ url: '/debug/tasks?view=history' })).json<{ history: NonNullable<typeof entry>[] }>()
      entry = report.history.find((e) => e.id === task && e.outcome === 'completed')
      return entry !== undefined
    })
    assert.deepEqual([entry!.route, entry!.requestId], ['POST /orders', request], 'the run is attributed to the request that spawned it')
    const line = lines.find((l) => l['msg'] === 'confirmation sent')
    assert.deepEqual([line?.['reqId'], line?.['taskId'], line?.['task']], [request, task, 'send-confirmation'])
    const groups = (await app.inject({ url: '/debug/tasks' })).json<{
      summary: { backend: Record<string, unknown> }
      backendJobs: Record<string, number> | null
    }>()
    assert.deepEqual(groups.summary.backend, { kind: 'bullmq', connected: true, admitting: 0, enqueued: 1 })
    assert.deepEqual(groups.backendJobs, { waiting: 0, prioritized: 0, delayed: 0, active: 0, completed: 1, failed: 0 })
    const text = (await app.inject({ url: '/debug/tasks?format=text' })).body
    assert.match(
      text,
      /^backend: bullmq · connected · admitting 0 · enqueued 1 since start · jobs of every replica: waiting 0 · prioritized 0 · delayed 0 · active 0 · completed 1 · failed 0$/m,
    )
    const metrics = (await app.inject({ url: '/metrics' })).body
    assert.match(metrics, /^fastify_tasks_backend_connected 1$/m)
    assert.match(metrics, /^fastify_tasks_backend_admitting 0$/m)
    assert.match(metrics, /fastify_tasks_finished_total\{task="send-confirmation",outcome="completed"\} 1/)
    // The alerting rules' backend metrics (left out of the in-memory check) exist in this scrape.
    const rules = readFileSync(fileURLToPath(new URL('../../../docs/reference/alert-rules.yml', import.meta.url)), 'utf8')
    const used = new Set([...rules.matchAll(/\bfastify_tasks_backend_[a-z0-9_]+/g)].map(([name]) => name))
    assert.ok(used.size > 0)
    for (const name of used) assert.match(metrics, new RegExp(`^# TYPE ${name} `, 'm'), name)
  })

  it('a schedule kept in Redis shows in /debug/tasks (where: bullmq); a turn of it is cancelled by its job id', async () => {
    const handle = app.tasks.repeat('hold-hourly', hold, undefined, { every: 3_600_000, immediately: true })
    await handle.admitted
    let running: string | undefined
    await until(() => {
      running = app.tasks.list({ state: ['running'] }).tasks.find((t) => t.name === 'hold')?.id
      return running !== undefined
    })
    assert.match(running!, /^repeat:hold-hourly:\d+$/)
    const report = (await app.inject({ url: '/debug/tasks' })).json<{
      schedules: Record<string, unknown>[]
      schedulesOmitted: number
      backendSchedules: string | null
    }>()
    assert.equal(report.schedulesOmitted, 0)
    assert.equal(report.backendSchedules, 'listed')
    assert.deepEqual(
      report.schedules.map(({ id, name, every, cron, where, skipped }) => ({ id, name, every, cron, where, skipped })),
      [{ id: 'hold-hourly', name: 'hold', every: 3_600_000, cron: null, where: 'bullmq', skipped: null }],
    )
    assert.match((await app.inject({ url: '/debug/tasks?format=text' })).body, /\n *hold-hourly +1h00m +\S+ +\d+ +- +- +bullmq +hold\n/)
    const response = await app.inject({ method: 'DELETE', url: `/debug/tasks/${encodeURIComponent(running!)}` })
    assert.equal(response.statusCode, 200, response.body)
    assert.equal(response.json<{ state: string }>().state, 'aborting', 'it runs here: asked to stop')
    await until(() => app.tasks.history().some((h) => h.id === running && h.outcome === 'cancelled' && h.reason === 'operator'))
    assert.equal(await app.tasks.unschedule('hold-hourly'), true)
    assert.equal((await app.inject({ url: '/debug/tasks' })).json<{ schedules: unknown[] }>().schedules.length, 0)
  })

  it('DELETE /debug/tasks/:id cancels a job another replica runs', async () => {
    const worker = new Scheduler({
      tasks: [hold],
      backend: bullmqBackend({ connection: redis.url, queue: `plugin-${process.pid}`, role: 'consumer', onError: () => {} }),
    })
    try {
      // This app takes no job meanwhile: the worker runs it.
      app.tasks.pauseBackend(true)
      const handle = app.tasks.spawn(hold, undefined)
      await handle.admitted
      await until(() => worker.get(handle.id)?.state === 'running')
      app.tasks.pauseBackend(false)
      assert.equal(app.tasks.get(handle.id), undefined)
      const response = await app.inject({ method: 'DELETE', url: `/debug/tasks/${handle.id}` })
      assert.equal(response.statusCode, 200, response.body)
      assert.deepEqual(response.json(), { cancelled: 1, id: handle.id, name: null, state: 'aborting' })
      const settlement = await handle.settled
      assert.equal(settlement.outcome, 'cancelled')
      assert.equal((await app.inject({ method: 'DELETE', url: `/debug/tasks/${handle.id}` })).statusCode, 404)
    } finally {
      await worker.close({ timeout: 0 })
    }
  })

  it('a bad payload is refused at the call site, before anything reaches Redis', async () => {
    const response = await app.inject({ method: 'POST', url: '/orders', payload: { orderId: 42 } })
    assert.equal(response.statusCode, 500)
    assert.equal(response.json<{ code: string }>().code, 'FT_INVALID_PAYLOAD')
  })

  it('with Redis down, the request gets 503 with Retry-After, in bounded time', async () => {
    await redis.stop()
    try {
      const response = await app.inject({ method: 'POST', url: '/orders', payload: { orderId: 'o-2' } })
      assert.equal(response.statusCode, 503)
      assert.equal(response.headers['retry-after'], '1')
      assert.equal(response.json<{ code: string }>().code, 'FT_BACKEND_UNAVAILABLE')
      const summary = (await app.inject({ url: '/debug/tasks' })).json<{
        summary: { rejected: { unavailable: number }; backend: { connected: boolean } }
        backendJobs: unknown
      }>()
      assert.equal(summary.summary.rejected.unavailable, 1)
      assert.equal(summary.summary.backend.connected, false)
      assert.equal(summary.backendJobs, null, 'no answer from Redis: unknown, and the view still answers')
      assert.equal((summary as unknown as { backendSchedules: string }).backendSchedules, 'unknown', 'schedules unknown, not none')
      assert.match(
        (await app.inject({ url: '/debug/tasks?format=text' })).body,
        /^backend: bullmq · DISCONNECTED · .* jobs of every replica: unknown \(no answer\)$/m,
      )
      assert.match(
        (await app.inject({ url: '/debug/tasks?format=text' })).body,
        /^schedules of the bullmq backend: unknown \(no answer\)$/m,
      )
      assert.match((await app.inject({ url: '/metrics' })).body, /^fastify_tasks_backend_connected 0$/m)
      assert.match(
        (await app.inject({ url: '/metrics' })).body,
        /fastify_tasks_rejected_total\{task="send-confirmation",reason="unavailable"\} 1/,
      )
    } finally {
      await redis.start()
    }
    // Reconnected on its own.
    await until(async () => (await app.inject({ method: 'POST', url: '/orders', payload: { orderId: 'o-3' } })).statusCode === 200)
  })
})
