import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { InvalidOptionError } from '../src/index.js'
import { hang, manualScheduler } from './helpers.js'

describe('inspection', () => {
  it('summary counts live tasks by state, outcomes, rejections and limits', async () => {
    const { scheduler } = manualScheduler({ concurrency: 2, maxQueue: 1 })
    scheduler.spawn('ok', () => 1)
    await scheduler.spawn('fails', () => Promise.reject(new Error('x'))).settled
    const a = scheduler.spawn('hang', hang)
    scheduler.spawn('hang', hang)
    scheduler.spawn('hang', hang)
    assert.throws(() => scheduler.spawn('hang', hang))
    a.cancel() // given up on: its slot goes to the waiting task
    const summary = scheduler.summary()
    assert.deepEqual(summary.live, { pending: 0, delayed: 0, running: 2, aborting: 1, total: 3 })
    assert.deepEqual(summary.givenUp, { live: 1, evicted: 0, expired: 0, closed: 0, late: 0, full: [] })
    assert.equal(summary.spawned, 5)
    assert.deepEqual(summary.rejected, { queue_full: 1, overloaded: 0, closing: 0, unavailable: 0 })
    assert.deepEqual(summary.outcomes, { completed: 1, failed: 1, cancelled: 0, timed_out: 0, dropped: 0 })
    assert.equal(summary.oldestRunningAgeMs, 0)
    assert.equal(summary.limits.concurrency, 2)
    assert.equal(summary.limits.maxQueue, 1)
    assert.equal(summary.limits.maxGivenUpPerName, 1_000)
    assert.equal(summary.limits.maxGivenUp, 10_000)
    assert.equal(summary.limits.givenUpTtl, 600_000)
    assert.equal(summary.closing, false)
  })

  it('groups live tasks by name, state, site and labels, largest first, with the oldest age', () => {
    const { scheduler, clock } = manualScheduler({ concurrency: 100, spawnSite: 'always' })
    const spawnMail = (labels: Record<string, string>): unknown => scheduler.spawn('mail', hang, { labels })
    const route = { route: '/orders' }
    for (let i = 0; i < 3; i++) spawnMail({ route: '/signup' })
    clock.advance(1_000)
    for (let i = 0; i < 5; i++) spawnMail(route) // same labels object
    spawnMail({ route: '/orders' }) // equal labels, another object: same group
    scheduler.spawn('mail', hang, { labels: { route: '/orders' } }) // another spawn site: its own group
    clock.advance(500)
    const groups = scheduler.groups()
    assert.equal(groups.length, 3)
    assert.deepEqual(
      groups.map((g) => [g.name, g.state, g.labels, g.count, g.oldestAgeMs]),
      [
        ['mail', 'running', { route: '/orders' }, 6, 500],
        ['mail', 'running', { route: '/signup' }, 3, 1_500],
        ['mail', 'running', { route: '/orders' }, 1, 500],
      ],
    )
    assert.match(groups[0]!.site!, /inspection\.test\.ts:\d+$/)
    assert.deepEqual(
      groups.map((g) => g.longestRunningMs),
      [500, 1_500, 500],
      'running time, here equal to age: none waited',
    )
    assert.equal(groups[0]!.site, groups[1]!.site)
    assert.notEqual(groups[2]!.site, groups[0]!.site)
  })

  it('groups are fresh copies: mutating one changes nothing', () => {
    const { scheduler } = manualScheduler()
    scheduler.spawn('x', hang, { labels: { a: '1' } })
    const [group] = scheduler.groups()
    ;(group!.labels as Record<string, string>)['a'] = 'changed'
    assert.equal(scheduler.groups()[0]!.labels!['a'], '1')
  })

  it('lists live tasks filtered by state, name and age, paginated with a cursor', () => {
    const { scheduler, clock } = manualScheduler({ concurrency: 3 })
    for (let i = 0; i < 5; i++) scheduler.spawn(i % 2 === 0 ? 'even' : 'odd', hang, { meta: { requestId: `r${i}` } })
    clock.advance(100)
    scheduler.spawn('even', hang)
    const running = scheduler.list({ state: 'running' })
    assert.deepEqual(
      running.tasks.map((t) => t.meta?.['requestId']),
      ['r0', 'r1', 'r2'],
    )
    assert.deepEqual(scheduler.list({ state: ['pending'], name: 'even' }).tasks.length, 2)
    assert.equal(scheduler.list({ olderThan: 50 }).tasks.length, 5)
    const page1 = scheduler.list({ limit: 4 })
    assert.equal(page1.tasks.length, 4)
    assert.ok(page1.nextCursor !== null)
    const page2 = scheduler.list({ limit: 4, cursor: page1.nextCursor })
    assert.equal(page2.tasks.length, 2)
    assert.equal(page2.nextCursor, null)
    const ids = [...page1.tasks, ...page2.tasks].map((t) => t.id)
    assert.equal(new Set(ids).size, 6)
    const first = page1.tasks[0]!
    assert.equal(first.state, 'running')
    assert.equal(first.ageMs, 100)
    assert.equal(first.deadlineInMs, 30_000 - 100)
    const pending = page2.tasks.find((t) => t.state === 'pending')!
    assert.equal(pending.runningMs, null)
    assert.equal(pending.deadlineInMs, null)
  })

  it('rejects bad list queries naming the parameter', () => {
    const { scheduler } = manualScheduler()
    assert.throws(() => scheduler.list({ limit: 0 }), /list\(query\.limit\)/)
    assert.throws(() => scheduler.list({ limit: 5_000 }), /list\(query\.limit\).*1 to 1000/)
    assert.throws(() => scheduler.list({ state: 'done' as never }), /list\(query\.state\)/)
    assert.throws(() => scheduler.list({ state: 5 as never }), InvalidOptionError)
    assert.throws(() => scheduler.list({ cursor: 'abc' }), /list\(query\.cursor\)/)
    assert.throws(() => scheduler.list({ olderThan: -1 }), InvalidOptionError)
    assert.throws(() => scheduler.history(0), /history\(limit\)/)
  })

  it('keeps a bounded history ring, newest first, with outcome, duration, reason and a truncated error', async () => {
    const { scheduler, clock } = manualScheduler({ historySize: 3 })
    const long = new Error('x'.repeat(1_000))
    scheduler.spawn('a', () => 1)
    const b = scheduler.spawn('b', () => new Promise((_, reject) => setImmediate(() => reject(long))))
    clock.advance(25)
    await b.settled
    scheduler.spawn('c', () => 1)
    scheduler.spawn('d', () => 1)
    const history = scheduler.history()
    assert.deepEqual(
      history.map((h) => h.name),
      ['d', 'c', 'b'],
    )
    const failed = history[2]!
    assert.equal(failed.outcome, 'failed')
    assert.equal(failed.durationMs, 25)
    assert.ok(failed.error!.startsWith('Error: xxx'))
    assert.ok(failed.error!.length <= 200)
    assert.equal(scheduler.history(1).length, 1)
  })

  it('history entries never hold the task value', async () => {
    const { scheduler } = manualScheduler()
    await scheduler.spawn('secret', () => ({ password: 'hunter2' })).settled
    assert.doesNotMatch(JSON.stringify(scheduler.history()), /hunter2/)
  })
})
