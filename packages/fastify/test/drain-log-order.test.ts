import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ManualClock } from '@fastify-tasks/core/testing'
import { buildApp, deferred, flush } from './helpers.js'

describe('the drain log can be trusted after an incident', () => {
  it("the drain's summary comes after every line of the tasks it reports; a released task that logs later is tagged late", async () => {
    const clock = new ManualClock()
    const { app, logs } = await buildApp({ clock, timeout: 100, abortGrace: 50, drainTimeout: 1_000 })
    const hung = deferred()
    app.post('/work', async (request, reply) => {
      // Hangs past its deadline, ignores its signal, and logs when it finally returns.
      request.tasks.spawn('hangs', async ({ log }) => {
        await hung.promise
        log.info('hangs: finally returned')
      })
      // Finishes during the drain and logs just before it settles.
      request.tasks.spawn(
        'finishes',
        async ({ log }) => {
          await new Promise<void>((resolve) => clock.setTimeout(resolve, 500))
          log.info('finishes: done')
        },
        { timeout: 5_000 },
      )
      return reply.code(202).send()
    })
    await app.inject({ method: 'POST', url: '/work' })
    clock.advance(100) // 'hangs' is given up
    const closing = app.close()
    await flush()
    clock.advance(500) // 'finishes' finishes during the drain
    await flush()
    await closing
    hung.resolve()
    await flush()

    const messages = logs.map((l) => l.msg)
    const summary = messages.indexOf('background tasks drained; some were abandoned')
    assert.ok(summary > messages.indexOf('finishes: done'), messages.join('\n'))
    const abandoned = logs.find((l) => l.msg === 'background tasks abandoned at shutdown')!
    assert.deepEqual([abandoned['task'], abandoned['givenUp']], ['hangs', 1])
    const late = logs.find((l) => l.msg === 'hangs: finally returned')!
    assert.ok(messages.indexOf('hangs: finally returned') > summary)
    assert.equal(late['late'], true, 'tagged: it ran after the report that ended it')
    assert.equal(logs.find((l) => l.msg === 'finishes: done')!['late'], undefined)
  })
})
