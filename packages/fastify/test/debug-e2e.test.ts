import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import Fastify from 'fastify'
import fastifyTasks, { type GroupsReport, type HistoryReport } from '../src/index.js'

/**
 * The user story of /debug/tasks, against a real listening server and a real HTTP client: memory
 * climbs because a route leaks tasks that hang; one request shows which task, from which route and
 * line, how many and how old; the operator cancels them and the history says who did.
 */
describe('finding a leak with one request (real server, real HTTP client)', () => {
  it('shows exactly N hanging tasks from the leaking route and line, and cancels them', async () => {
    const app = Fastify()
    // No backpressure: the client runs in this process, and loading its HTTP stack blocks the loop the
    // server measures, which would shed the first request as if the server were overloaded.
    await app.register(fastifyTasks, { debug: { cancel: true }, timeout: Infinity, abortGrace: 1_000, backpressure: false })
    app.get('/orders/:id/sync', async (request) => {
      // The bug: a partner call that never settles and ignores cancellation… until the operator asks.
      request.tasks.spawn(
        'sync-partner',
        ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))),
      )
      return { ok: true }
    })
    const address = await app.listen({ port: 0, host: '127.0.0.1' })
    try {
      const N = 25
      for (let i = 0; i < N; i++) {
        const response = await fetch(`${address}/orders/${i}/sync`)
        assert.equal(response.status, 200)
      }

      const report = (await (await fetch(`${address}/debug/tasks`)).json()) as GroupsReport
      assert.equal(report.groups.length, 1)
      const [group] = report.groups
      assert.equal(group!.name, 'sync-partner')
      assert.equal(group!.count, N)
      assert.equal(group!.route, 'GET /orders/:id/sync')
      assert.match(group!.site!, /debug-e2e\.test\.ts:\d+$/)
      assert.equal(report.summary.live.total, N)

      const text = await (await fetch(`${address}/debug/tasks?format=text`)).text()
      const row = text.split('\n').find((line) => line.includes('sync-partner'))!
      assert.match(
        row,
        new RegExp(
          `^\\s*${N}\\s+running\\s+\\S+\\s+\\S+\\s+0\\s+0\\s+sync-partner\\s+GET /orders/:id/sync\\s+\\S*debug-e2e\\.test\\.ts:\\d+$`,
        ),
      )

      const cancel = await fetch(`${address}/debug/tasks?name=sync-partner`, { method: 'DELETE' })
      assert.deepEqual(await cancel.json(), { cancelled: N, name: 'sync-partner' })
      for (let i = 0; i < 50 && app.tasks.liveCount > 0; i++) await new Promise((resolve) => setImmediate(resolve))
      assert.equal(app.tasks.liveCount, 0)

      const history = (await (await fetch(`${address}/debug/tasks?view=history&limit=${N}`)).json()) as HistoryReport
      assert.equal(history.history.length, N)
      assert.ok(history.history.every((h) => h.name === 'sync-partner' && h.outcome === 'cancelled' && h.reason === 'operator'))
    } finally {
      await app.close()
    }
  })
})
