import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { InvalidOptionError, TaskAbortedError, type CancelReason } from '../src/index.js'
import { deferred, manualScheduler, untilAborted } from './helpers.js'

describe('cancellation', () => {
  it('cancelling a running task aborts its signal (aborting), then ends cancelled with the reason', async () => {
    const { scheduler } = manualScheduler()
    const handle = scheduler.spawn('job', untilAborted)
    assert.equal(handle.cancel(), true)
    assert.equal(handle.state, 'aborting')
    const settlement = await handle.settled
    assert.equal(settlement.outcome, 'cancelled')
    assert.equal(settlement.outcome === 'cancelled' && settlement.reason, 'caller')
    assert.ok(settlement.outcome === 'cancelled' && settlement.error instanceof TaskAbortedError)
    assert.equal(handle.cancel(), false, 'a second cancel is a no-op')
  })

  it('cancelling a waiting task ends it cancelled at once; its function never runs', async () => {
    const { scheduler } = manualScheduler({ concurrency: 1 })
    scheduler.spawn('blocker', () => deferred().promise)
    let ran = false
    const waiting = scheduler.spawn('waiting', () => {
      ran = true
    })
    assert.equal(waiting.cancel('operator'), true)
    assert.equal(waiting.state, 'cancelled')
    assert.deepEqual(await waiting.settled, { outcome: 'cancelled', reason: 'operator' })
    assert.equal(ran, false)
    assert.equal(scheduler.summary().live.pending, 0)
  })

  it('cancel by id and by predicate over name and labels, recording who cancelled in history', async () => {
    const { scheduler } = manualScheduler()
    const a = scheduler.spawn('sync-user', untilAborted, { labels: { tenant: 'a' } })
    const b = scheduler.spawn('sync-user', untilAborted, { labels: { tenant: 'b' } })
    const c = scheduler.spawn('other', untilAborted, { labels: { tenant: 'a' } })
    assert.equal(scheduler.cancel(a.id, 'operator'), true)
    assert.equal(scheduler.cancel('999999', 'operator'), false)
    assert.equal(
      scheduler.cancelWhere((t) => t.labels?.['tenant'] === 'a'),
      1,
      'a is already aborting',
    )
    await Promise.all([a.settled, c.settled])
    assert.equal(b.state, 'running')
    const history = scheduler.history()
    assert.deepEqual(
      history.map((h) => [h.name, h.outcome, h.reason]),
      [
        ['other', 'cancelled', 'caller'],
        ['sync-user', 'cancelled', 'operator'],
      ],
    )
    b.cancel()
    await b.settled
  })

  it('rejects an unknown cancel reason, naming it', () => {
    const { scheduler } = manualScheduler()
    const handle = scheduler.spawn('job', untilAborted)
    assert.throws(
      () => handle.cancel('timeout' as CancelReason),
      (e: unknown) => e instanceof InvalidOptionError && /cancel\(reason\).*"timeout"/.test(e.message),
    )
    assert.throws(() => scheduler.cancelWhere('x' as never), InvalidOptionError)
    assert.throws(() => scheduler.cancel('999', 'bogus' as CancelReason), InvalidOptionError, 'checked even for an unknown id')
    handle.cancel()
  })

  it("refuses 'cancelled', the default reason's name before 1.0, and names 'caller' instead", () => {
    const { scheduler } = manualScheduler()
    const handle = scheduler.spawn('job', untilAborted)
    assert.throws(
      () => handle.cancel('cancelled' as CancelReason),
      (e: unknown) => e instanceof InvalidOptionError && /expected 'caller'.*"cancelled"/.test(e.message),
    )
    assert.equal(handle.state, 'running')
    assert.equal(handle.cancel(), true)
    assert.equal(handle.abortReason, 'caller')
  })

  it('a task that finishes normally after being cancelled still ends cancelled', async () => {
    const { scheduler } = manualScheduler()
    const gate = deferred<string>()
    const handle = scheduler.spawn('finishes-anyway', () => gate.promise)
    handle.cancel()
    gate.resolve('done')
    assert.deepEqual(await handle.settled, { outcome: 'cancelled', reason: 'caller' })
  })
})
