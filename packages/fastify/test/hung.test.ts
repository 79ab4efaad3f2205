import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { buildApp, flush } from './helpers.js'

// --expose-gc is not passed on to the test runner's child processes on every Node version (24 drops
// it): turn the flag on from here, and take the function from a fresh context.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as (() => void) | undefined

/** Collects garbage until `done()`, at most 50 rounds. */
async function collectUntil(done: () => Promise<boolean>): Promise<void> {
  assert.ok(gc !== undefined, 'the garbage collector is reachable')
  for (let round = 0; round < 50 && !(await done()); round++) {
    gc()
    await flush(2)
  }
}

describe('hangs proven by the garbage collector, in the plugin', () => {
  it('a task awaiting a promise nothing can settle shows as hung in /debug/tasks, /metrics and the log, once given up', async () => {
    const { app, logs } = await buildApp({ timeout: 20, abortGrace: 10_000, backpressure: false })
    app.post('/webhooks', async (request, reply) => {
      // The callback that would have resolved it is lost: nothing can ever settle this task.
      request.tasks.spawn('relay-webhook', async () => {
        await new Promise(() => {})
      })
      return reply.code(202).send()
    })
    await app.inject({ method: 'POST', url: '/webhooks' })
    // Bounded wait for its 20 ms deadline (real time; no duration is asserted).
    for (let i = 0; i < 200 && app.tasks.summary().live.aborting === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5))
    assert.equal(app.tasks.summary().live.aborting, 1)
    await collectUntil(async () => app.tasks.summary().hung.live === 1)
    const report = (await app.inject('/debug/tasks')).json<{
      notes: string[]
      summary: { hung: { live: number; total: number } }
      groups: { name: string; state: string; hung: number; route: string | null }[]
    }>()
    assert.deepEqual(report.summary.hung, { live: 1, total: 1 })
    const group = report.groups.find((g) => g.name === 'relay-webhook')
    assert.deepEqual([group?.state, group?.hung, group?.route], ['aborting', 1, 'POST /webhooks'])
    assert.ok(
      report.notes.some((n) => n.startsWith('1 tasks are proven hung')),
      report.notes.join('\n'),
    )
    const text = (await app.inject('/debug/tasks?format=text')).body
    assert.match(text, /· hung 1 ·/)
    assert.match(text, /STUCK\s+LEAKED\s+HUNG\s+TASK[^\n]*\n\s+1\s+aborting\s+\S+\s+\S+\s+0\s+0\s+1\s+relay-webhook/)
    const tasks = (await app.inject('/debug/tasks?view=tasks&format=text')).body
    assert.match(tasks, /hung/)
    assert.match((await app.inject('/metrics')).body, /^fastify_tasks_hung_total\{task="relay-webhook"\} 1$/m)
    const line = logs.find((l) => String(l.msg).startsWith('background task proven hung'))
    assert.ok(line !== undefined, 'logged')
    assert.deepEqual([line['task'], line['hung'], line['abortReason']], ['relay-webhook', true, 'timeout'])
    app.tasks.drainTimeout = 0
    await app.close()
  })
})
