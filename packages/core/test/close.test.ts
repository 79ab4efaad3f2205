import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ClosingError } from '../src/index.js'
import { deferred, flush, hang, manualScheduler, untilAborted } from './helpers.js'

describe('close', () => {
  it('stops intake at once with ClosingError (503, closing)', async () => {
    const { scheduler } = manualScheduler()
    const closed = scheduler.close()
    assert.equal(scheduler.closing, true)
    assert.throws(
      () => scheduler.spawn('late', () => 1),
      (e: unknown) => e instanceof ClosingError && e.reason === 'closing' && e.code === 'FT_CLOSING',
    )
    const report = await closed
    assert.equal(report.clean, true)
    assert.equal(scheduler.summary().rejected.closing, 1)
  })

  it('lets running and queued tasks finish before the deadline and reports a clean drain', async () => {
    const { scheduler, clock } = manualScheduler({ concurrency: 1 })
    const first = deferred()
    const a = scheduler.spawn('a', () => first.promise)
    const b = scheduler.spawn('b', () => 'queued work still runs')
    const closed = scheduler.close({ timeout: 1_000 })
    clock.advance(300)
    first.resolve()
    const report = await closed
    assert.equal(a.state, 'completed')
    assert.deepEqual(await b.settled, { outcome: 'completed', value: 'queued work still runs' })
    assert.equal(report.clean, true)
    assert.equal(report.durationMs, 300)
    assert.equal(report.finished.completed, 2)
    assert.deepEqual(report.abandoned, [])
  })

  it('at the deadline drops what never started, aborts the rest with reason shutdown, waits abortGrace, and reports by name and site', async () => {
    const { scheduler, clock } = manualScheduler({ concurrency: 2, abortGrace: 500, timeout: Infinity, spawnSite: 'always' })
    const cooperative = scheduler.spawn('cooperative', untilAborted)
    const stubborn = scheduler.spawn('stubborn', hang)
    const neverRan = [scheduler.spawn('queued', () => 1), scheduler.spawn('queued', () => 1)]
    let resolved = false
    const closed = scheduler.close({ timeout: 1_000 }).then((report) => {
      resolved = true
      return report
    })
    clock.advance(999)
    await flush()
    assert.equal(cooperative.state, 'running')
    clock.advance(1)
    await flush()
    assert.equal(cooperative.state, 'cancelled')
    assert.equal(cooperative.abortReason, 'shutdown')
    assert.equal(stubborn.state, 'aborting')
    for (const h of neverRan) assert.deepEqual(await h.settled, { outcome: 'dropped', reason: 'shutdown' })
    assert.equal(resolved, false, 'waits abortGrace for the stubborn task')
    clock.advance(500)
    const report = await closed
    assert.equal(report.clean, false)
    assert.equal(report.dropped, 2)
    assert.equal(report.aborted, 2)
    assert.equal(report.givenUp, 0)
    assert.equal(report.unsettled, 1)
    assert.equal(stubborn.leaked, true)
    assert.equal(stubborn.state, 'cancelled', 'the close ends what ignored the shutdown abort')
    assert.equal(stubborn.release, 'closed')
    assert.deepEqual(
      report.abandoned.map((g) => [g.name, g.count, g.dropped, g.aborted, g.givenUp, g.unsettled, g.oldestAgeMs]),
      [
        ['queued', 2, 2, 0, 0, 0, 1_500],
        ['cooperative', 1, 0, 1, 0, 0, 1_500],
        ['stubborn', 1, 0, 1, 0, 1, 1_500],
      ],
    )
    for (const group of report.abandoned) assert.match(group.site!, /close\.test\.ts:\d+$/)
    assert.equal(clock.pendingTimers, 0, 'close leaves no timer behind')
  })

  it('timeout 0 aborts at once; close is idempotent', async () => {
    const { scheduler } = manualScheduler()
    const task = scheduler.spawn('job', untilAborted)
    const first = scheduler.close({ timeout: 0 })
    assert.equal(scheduler.close(), first)
    const report = await first
    assert.equal(task.state, 'cancelled')
    assert.equal(report.aborted, 1)
    assert.equal(report.unsettled, 0)
  })

  it('rejects a bad close timeout, naming it', () => {
    const { scheduler } = manualScheduler()
    assert.throws(() => scheduler.close({ timeout: -5 }), /close\(options\.timeout\).*received -5/)
  })
})
