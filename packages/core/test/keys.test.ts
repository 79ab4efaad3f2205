import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { deferred, manualScheduler, untilAborted } from './helpers.js'

describe('keys', () => {
  it('join returns the live task with the same key and does not run the new function', async () => {
    const { scheduler } = manualScheduler()
    const gate = deferred<number>()
    let runs = 0
    const first = scheduler.spawn('refresh', () => (runs++, gate.promise), { key: 'cache:users' })
    const second = scheduler.spawn('refresh', () => (runs++, gate.promise), { key: 'cache:users' })
    assert.equal(second, first)
    assert.equal(runs, 1)
    gate.resolve(1)
    await first.settled
    const third = scheduler.spawn('refresh', () => (runs++, 3), { key: 'cache:users' })
    assert.notEqual(third, first, 'a settled task no longer holds its key')
    assert.equal(runs, 2)
  })

  it('replace cancels the live task with reason superseded and starts the new one', async () => {
    const { scheduler } = manualScheduler()
    const old = scheduler.spawn('render', untilAborted, { key: 'doc:1' })
    const replacement = scheduler.spawn('render', () => 'new', { key: 'doc:1', onDuplicate: 'replace' })
    assert.notEqual(replacement, old)
    const settlement = await old.settled
    assert.equal(settlement.outcome === 'cancelled' && settlement.reason, 'superseded')
    assert.deepEqual(await replacement.settled, { outcome: 'completed', value: 'new' })
    assert.equal(scheduler.history().find((h) => h.id === old.id)?.reason, 'superseded')
  })

  it('replace of a waiting task frees its queue place for the newcomer', async () => {
    const { scheduler } = manualScheduler({ concurrency: 1, maxQueue: 1 })
    scheduler.spawn('blocker', () => deferred().promise)
    const old = scheduler.spawn('job', () => 1, { key: 'k' })
    const replacement = scheduler.spawn('job', () => 2, { key: 'k', onDuplicate: 'replace' })
    assert.deepEqual(await old.settled, { outcome: 'cancelled', reason: 'superseded' })
    assert.equal(replacement.state, 'pending')
  })

  it('regression: a refused replace leaves the live task alone', () => {
    // Refused by the admission check (a replace that would fit, since the old task's slot frees up).
    const { scheduler } = manualScheduler({ concurrency: 1, maxQueue: 0, admission: ({ priority }) => priority !== 'low' })
    const old = scheduler.spawn('job', untilAborted, { key: 'k' })
    assert.throws(() => scheduler.spawn('job', () => 2, { key: 'k', onDuplicate: 'replace', priority: 'low' }), /overloaded/)
    assert.equal(old.state, 'running')
    assert.equal(
      scheduler.spawn('job', () => 3, { key: 'k' }),
      old,
      'it still holds its key',
    )
    old.cancel()
  })

  it('join does not return a task that is already aborting: it spawns a new one', () => {
    const { scheduler } = manualScheduler()
    const old = scheduler.spawn('job', untilAborted, { key: 'k' })
    old.cancel()
    const fresh = scheduler.spawn('job', untilAborted, { key: 'k' })
    assert.notEqual(fresh, old)
    assert.equal(
      scheduler.spawn('job', () => 1, { key: 'k' }),
      fresh,
    )
    fresh.cancel()
  })

  it('a superseded task that is still aborting does not steal the key back', async () => {
    const { scheduler } = manualScheduler()
    const gate = deferred()
    const old = scheduler.spawn('job', () => gate.promise, { key: 'k' })
    const replacement = scheduler.spawn('job', untilAborted, { key: 'k', onDuplicate: 'replace' })
    gate.resolve()
    await old.settled
    assert.equal(
      scheduler.spawn('job', () => 3, { key: 'k' }),
      replacement,
    )
    replacement.cancel()
  })
})
