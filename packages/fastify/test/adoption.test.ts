import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ManualClock } from '@fastify-tasks/core/testing'
import type { GroupsReport, HistoryReport, TasksReport } from '../src/index.js'
import { LogLimiter } from '../src/logging/log-limiter.js'
import { buildApp, flush, LEVEL, type LogLine } from './helpers.js'

const hang = (): Promise<never> => new Promise<never>(() => {})

/** Closes an app whose scheduler runs on a manual clock: the drain's waits are on that clock. */
async function closeOn(clock: ManualClock, app: { close(): Promise<undefined> }): Promise<void> {
  const closing = app.close()
  for (let i = 0; i < 5; i++) {
    await flush()
    clock.advance(60_000)
  }
  await closing
}

describe('converting fire-and-forget code never makes the service worse', () => {
  it('request.tasks.trySpawn never fails the request when the task is refused; the refusal is counted and logged once', async () => {
    const { app, logs } = await buildApp({ concurrency: 1, maxQueue: 0, backpressure: false, drainTimeout: 0, abortGrace: 0 })
    app.addHook('onRequest', async (request) => {
      if (!request.url.startsWith('/api/')) return
      request.tasks.trySpawn('touch-last-seen', hang, { priority: 'low', meta: { tokenId: 'tok-1' } })
    })
    app.get('/api/user', async () => ({ name: 'ada' }))
    const statuses: number[] = []
    for (let i = 0; i < 20; i++) statuses.push((await app.inject('/api/user')).statusCode)
    assert.deepEqual(new Set(statuses), new Set([200]), 'every request answered')
    const metrics = await app.inject('/metrics')
    assert.match(metrics.body, /fastify_tasks_rejected_total\{task="touch-last-seen",reason="queue_full"\} 19/)
    const refused = logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('background task refused'))
    assert.equal(refused.length, 1, 'one line, not one per refusal')
    assert.equal(refused[0]!.level, LEVEL.warn)
    assert.equal(refused[0]!['reason'], 'queue_full')
    assert.deepEqual((refused[0]!['meta'] as Record<string, unknown>)['tokenId'], 'tok-1', "the user's meta is in the line")
    await app.close()
    const summary = logs.find((l) => l['suppressed'] !== undefined && l['task'] === 'touch-last-seen')
    assert.equal(summary?.['suppressed'], 18, 'the held-back refusals are counted at close')
  })

  it('app.tasks.trySpawn returns undefined once closed instead of throwing', async () => {
    const { app } = await buildApp()
    await app.ready()
    await app.close()
    assert.equal(
      app.tasks.trySpawn('late', () => 1),
      undefined,
    )
    assert.throws(() => app.tasks.spawn('late', () => 1), /closing/)
    assert.equal(app.tasks.summary().rejected.closing, 2)
  })

  it('failure lines are rate-limited per task name: the first in full with its stack and meta, the rest counted into one line at the end of the interval', async () => {
    const clock = new ManualClock()
    const { app, logs } = await buildApp({ clock, logInterval: 60_000 })
    app.post('/orders', async (request, reply) => {
      request.tasks.spawn('send-mail', () => Promise.reject(new Error('smtp down')), { meta: { orderId: 'o-1' } })
      request.tasks.spawn('post-analytics', () => Promise.reject(new Error('analytics down')))
      return reply.code(202).send()
    })
    for (let i = 0; i < 50; i++) await app.inject({ method: 'POST', url: '/orders' })
    await flush()
    const failed = logs.filter((l) => l.msg === 'background task failed')
    assert.deepEqual(failed.map((l) => l['task']).sort(), ['post-analytics', 'send-mail'], 'one line per task name')
    const mail = failed.find((l) => l['task'] === 'send-mail')!
    assert.match(String((mail['err'] as { stack?: string }).stack), /smtp down\n\s+at /, 'the first carries the stack')
    assert.equal((mail['meta'] as Record<string, unknown>)['orderId'], 'o-1')
    assert.equal(typeof mail['reqId'], 'string', 'through the request logger')
    const summaries = (): LogLine[] => logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('background task failed, and'))
    clock.advance(59_999)
    assert.deepEqual(summaries(), [], 'nothing more within the interval')
    clock.advance(1)
    assert.deepEqual(
      summaries()
        .map((l) => [l['task'], l['suppressed'], l['intervalMs']])
        .sort(),
      [
        ['post-analytics', 49, 60_000],
        ['send-mail', 49, 60_000],
      ],
    )
    const mailSummary = summaries().find((l) => l['task'] === 'send-mail')!
    assert.equal(mailSummary['lastError'], 'Error: smtp down')
    assert.equal(mailSummary['err'], undefined, 'no stack in the summary')
    assert.equal((mailSummary['meta'] as Record<string, unknown>)['orderId'], 'o-1')
    // The next interval starts with a line in full again.
    await app.inject({ method: 'POST', url: '/orders' })
    await flush()
    assert.equal(logs.filter((l) => l.msg === 'background task failed').length, 4)
    await app.close()
    assert.equal(summaries().length, 2, 'nothing held back, so nothing owed at close')
  })

  it('logInterval 0 writes every line', async () => {
    const { app, logs } = await buildApp({ logInterval: 0 })
    for (let i = 0; i < 5; i++) await app.tasks.spawn('flaky', () => Promise.reject(new Error('no'))).settled
    assert.equal(logs.filter((l) => l.msg === 'background task failed').length, 5)
    await app.close()
  })

  it('deadline and leak lines carry meta and say the task holds no slot', async () => {
    const clock = new ManualClock()
    const { app, logs } = await buildApp({ clock, timeout: 100, abortGrace: 50 })
    app.tasks.spawn('partner', hang, { meta: { tokenId: 't-9' } })
    clock.advance(100)
    clock.advance(50)
    const deadline = logs.find((l) => String(l.msg).startsWith('background task exceeded its deadline'))!
    const leaked = logs.find((l) => String(l.msg).startsWith('background task ignores its abort signal'))!
    assert.equal((deadline['meta'] as Record<string, unknown>)['tokenId'], 't-9')
    assert.equal((leaked['meta'] as Record<string, unknown>)['tokenId'], 't-9')
    assert.match(leaked.msg, /holds no concurrency slot/)
    await closeOn(clock, app)
  })

  it('an invalid logInterval is refused by name', async () => {
    for (const value of [-1, Infinity, Number.NaN, '10']) {
      await assert.rejects(buildApp({ logInterval: value as number }), /logInterval/)
    }
  })
})

describe('/debug/tasks says why the queue does not move', () => {
  it('names the columns: age since spawn and time running are two columns', async () => {
    const clock = new ManualClock()
    const { app } = await buildApp({ clock, concurrency: 1, timeout: Infinity })
    app.tasks.spawn('slow', hang)
    clock.advance(1_000)
    app.tasks.spawn('slow', hang) // waits
    clock.advance(500)
    const report = (await app.inject('/debug/tasks')).json<GroupsReport>()
    const running = report.groups.find((g) => g.state === 'running')!
    const pending = report.groups.find((g) => g.state === 'pending')!
    assert.deepEqual([running.oldestAgeMs, running.longestRunningMs], [1_500, 1_500])
    assert.deepEqual([pending.oldestAgeMs, pending.longestRunningMs], [500, null])
    const tasks = (await app.inject('/debug/tasks?view=tasks')).json<TasksReport>()
    assert.deepEqual(
      tasks.tasks.map((t) => [t.state, t.ageMs, t.runningMs]),
      [
        ['running', 1_500, 1_500],
        ['pending', 500, null],
      ],
    )
    await closeOn(clock, app)
  })

  it('"queue not moving" when every slot is held by stuck tasks, in JSON and text', async () => {
    const clock = new ManualClock()
    const { app } = await buildApp({ clock, concurrency: 2, timeout: Infinity, stuckAfter: 1_000, backpressure: false })
    for (let i = 0; i < 3; i++) app.tasks.spawn('stuck', hang)
    clock.advance(1_000)
    const report = (await app.inject('/debug/tasks')).json<GroupsReport>()
    assert.equal(report.notes.length, 1)
    assert.match(report.notes[0]!, /^queue not moving: 2 of 2 slots held by tasks with no progress for 1\.0s or more \(stuck\); 1 waiting/)
    const text = (await app.inject('/debug/tasks?format=text')).body
    assert.match(text.split('\n')[0]!, /^attention: queue not moving: 2 of 2 slots/)
    await closeOn(clock, app)
  })

  it('no notes when all is well', async () => {
    const { app } = await buildApp({ drainTimeout: 0, abortGrace: 0 })
    app.tasks.spawn('fine', hang)
    assert.deepEqual((await app.inject('/debug/tasks')).json<GroupsReport>().notes, [])
    await app.close()
  })

  it('hung tasks past their deadline hold no slot and are shown as given up, leaked, and when the set is full', async () => {
    const clock = new ManualClock()
    const { app, logs } = await buildApp({ clock, concurrency: 2, timeout: 100, abortGrace: 50, maxGivenUpPerName: 3 })
    for (let i = 0; i < 4; i++) {
      app.tasks.spawn('touch-last-seen', hang)
      clock.advance(100)
    }
    clock.advance(50)
    const report = (await app.inject('/debug/tasks')).json<GroupsReport>()
    assert.deepEqual(report.summary.live, { pending: 0, delayed: 0, running: 0, aborting: 3, total: 3 })
    assert.deepEqual(report.summary.givenUp.full, ['touch-last-seen'])
    assert.equal(report.summary.givenUp.evicted, 1)
    assert.ok(
      report.notes.some((n) => n.startsWith('given-up set full for 1 task name(s) (3 each)')),
      report.notes.join('\n'),
    )
    assert.ok(
      report.notes.some((n) => n.startsWith('3 tasks ignore their abort signal (leaked)')),
      report.notes.join('\n'),
    )
    const history = (await app.inject('/debug/tasks?view=history')).json<HistoryReport>()
    assert.deepEqual(
      history.history.map((h) => [h.outcome, h.release]),
      [['timed_out', 'evicted']],
    )
    const text = (await app.inject('/debug/tasks?view=history&format=text')).body
    assert.match(text, /RELEASED/)
    assert.match(text, /timed_out\s+timeout\s+.*evicted/)
    assert.equal(logs.filter((l) => String(l.msg).startsWith('given-up tasks of this name reached their cap')).length, 1)
    await closeOn(clock, app)
  })
})

describe('LogLimiter', () => {
  it('writes the first line of each interval and summarizes the rest when the interval ends', () => {
    const clock = new ManualClock()
    const lines: string[] = []
    const limiter = new LogLimiter(1_000, clock)
    const log = (key: string): void =>
      limiter.log(
        key,
        () => lines.push(`${key}`),
        (n) => lines.push(`${key} +${n}`),
      )
    for (let i = 0; i < 5; i++) log('a')
    log('b')
    assert.deepEqual(lines, ['a', 'b'])
    clock.advance(500)
    log('c')
    log('c')
    clock.advance(499)
    assert.deepEqual(lines, ['a', 'b', 'c'])
    clock.advance(1)
    assert.deepEqual(lines, ['a', 'b', 'c', 'a +4'], "a's summary at the end of its interval; none for b")
    clock.advance(999)
    assert.deepEqual(lines, ['a', 'b', 'c', 'a +4'])
    clock.advance(1)
    assert.deepEqual(lines, ['a', 'b', 'c', 'a +4', 'c +1'], "c's at the first check (one per interval) after its own ended")
    assert.equal(clock.pendingTimers, 0, 'no timer while no line is held')
    lines.length = 0
    log('a')
    assert.deepEqual(lines, ['a'], 'a new interval starts with a full line')
    log('a')
    limiter.close()
    assert.deepEqual(lines, ['a', 'a +1'], 'close writes what is owed')
    assert.equal(clock.pendingTimers, 0, 'close stops the timer')
  })
})
