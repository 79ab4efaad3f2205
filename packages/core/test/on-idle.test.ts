import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { deferred, flush, hang, manualScheduler } from './helpers.js'

describe('onIdle', () => {
  it('resolves at once when nothing is pending or running', async () => {
    const { scheduler } = manualScheduler()
    await scheduler.onIdle()
  })

  it('resolves when the last pending or running task settles, not before', async () => {
    const { scheduler } = manualScheduler({ concurrency: 1 })
    const first = deferred()
    const second = deferred()
    scheduler.spawn('a', () => first.promise)
    scheduler.spawn('b', () => second.promise)
    let idle = false
    const waiting = scheduler.onIdle().then(() => (idle = true))
    first.resolve()
    await flush()
    assert.equal(idle, false, 'b is still running')
    second.resolve()
    await waiting
    assert.equal(scheduler.liveCount, 0)
  })

  it('does not wait for given-up tasks (they hold no slot and may never settle)', async () => {
    const { scheduler, clock } = manualScheduler({ timeout: 100 })
    scheduler.spawn('hangs', hang)
    let idle = false
    const waiting = scheduler.onIdle().then(() => (idle = true))
    await flush()
    assert.equal(idle, false)
    clock.advance(100)
    await waiting
    assert.equal(scheduler.summary().live.aborting, 1)
  })
})
