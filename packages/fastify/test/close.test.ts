import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ManualClock } from '@fastify-tasks/core/testing'
import Fastify, { type FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import fastifyTasks, { type TaskHandle } from '../src/index.js'
import { deferred, flush, LEVEL, type LogLine } from './helpers.js'

/** A stand-in for a database client plugin: open until its onClose hook runs. */
const fakeDatabase = fp(
  async (fastify: FastifyInstance, options: { events: string[] }) => {
    const db = { open: true }
    fastify.decorate('db', db)
    fastify.addHook('onClose', async () => {
      db.open = false
      options.events.push('database closed')
    })
  },
  { name: 'fake-database' },
)

declare module 'fastify' {
  interface FastifyInstance {
    db: { open: boolean }
  }
}

async function appWithDatabase(
  clock: ManualClock,
  events: string[],
  drainTimeout: number,
): Promise<{ app: FastifyInstance; logs: LogLine[] }> {
  const logs: LogLine[] = []
  const app = Fastify({ logger: { level: 'info', stream: { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) } } })
  await app.register(fakeDatabase, { events })
  await app.register(fastifyTasks, { clock, drainTimeout, abortGrace: 100, timeout: Infinity })
  return { app, logs }
}

describe('close sequence', () => {
  it('drains before plugins registered earlier close: a task still uses the database while draining', async () => {
    const clock = new ManualClock()
    const events: string[] = []
    const { app, logs } = await appWithDatabase(clock, events, 5_000)
    const finish = deferred()
    app.post('/orders', async (request, reply) => {
      request.tasks.spawn('write-audit', async () => {
        await finish.promise
        events.push(`task finished, database ${app.db.open ? 'open' : 'closed'}`)
      })
      return reply.code(202).send()
    })
    await app.inject({ method: 'POST', url: '/orders' })
    const closing = app.close()
    await flush()
    assert.equal(app.tasks.closing, true, 'the drain has started')
    assert.equal(app.db.open, true, 'the database is still open while tasks drain')
    clock.advance(1_000)
    finish.resolve()
    await closing
    assert.deepEqual(events, ['task finished, database open', 'database closed'])
    const summary = logs.find((l) => l.msg === 'background tasks drained')!
    assert.equal(summary.level, LEVEL.info)
    assert.equal(summary['clean'], true)
  })

  it('accepts spawns during preClose, while in-flight requests finish', async () => {
    const clock = new ManualClock()
    const { app } = await appWithDatabase(clock, [], 5_000)
    let late: TaskHandle | undefined
    app.addHook('preClose', async () => {
      late = app.tasks.spawn('flush-buffers', () => 'flushed')
    })
    await app.close()
    assert.deepEqual(await late!.settled, { outcome: 'completed', value: 'flushed' })
    assert.throws(() => app.tasks.spawn('after-close', () => 1), /closing/)
  })

  it('at the drain deadline aborts the rest with reason shutdown and logs one line per abandoned group, then a summary', async () => {
    const clock = new ManualClock()
    const events: string[] = []
    const { app, logs } = await appWithDatabase(clock, events, 1_000)
    const handles: TaskHandle[] = []
    app.post('/work', async (request, reply) => {
      handles.push(request.tasks.spawn('quick', () => new Promise((resolve) => setImmediate(resolve))))
      handles.push(
        request.tasks.spawn(
          'slow-report',
          ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))),
        ),
      )
      handles.push(request.tasks.spawn('ignores-abort', () => new Promise(() => {})))
      return reply.code(202).send()
    })
    await app.inject({ method: 'POST', url: '/work' })
    await app.inject({ method: 'POST', url: '/work' })
    const closing = app.close()
    await flush()
    clock.advance(1_000)
    await flush()
    assert.equal(app.db.open, true, 'still open during the abort grace')
    clock.advance(100)
    await closing
    const byName = (name: string): string[] => handles.filter((h) => h.name === name).map((h) => h.state)
    assert.deepEqual(byName('quick'), ['completed', 'completed'])
    assert.deepEqual(byName('slow-report'), ['cancelled', 'cancelled'])
    assert.ok(handles.filter((h) => h.name === 'slow-report').every((h) => h.abortReason === 'shutdown'))
    assert.deepEqual(byName('ignores-abort'), ['cancelled', 'cancelled'], 'ended by the close after abortGrace')
    assert.ok(handles.filter((h) => h.name === 'ignores-abort').every((h) => h.release === 'closed'))
    const abandoned = logs.filter((l) => l.msg === 'background tasks abandoned at shutdown')
    assert.deepEqual(
      abandoned.map((l) => [l['task'], l['count'], l['aborted'], l['givenUp'], l['unsettled'], typeof l['site'], l['oldestAgeMs']]),
      [
        ['ignores-abort', 2, 2, 0, 2, 'string', 1_100],
        ['slow-report', 2, 2, 0, 0, 'string', 1_100],
      ],
    )
    const summary = logs.find((l) => l.msg.startsWith('background tasks drained'))!
    assert.equal(summary.level, LEVEL.warn)
    assert.equal(summary['clean'], false)
    assert.equal(summary['unsettled'], 2)
    assert.deepEqual(events, ['database closed'])
  })
})
