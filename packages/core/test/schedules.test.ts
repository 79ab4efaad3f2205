import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ClosingError, defineTask, InvalidPayloadError, UnknownTaskError } from '../src/index.js'
import { deferred, flush, manualScheduler } from './helpers.js'

describe('repeating schedules', () => {
  it('spawns the task every interval, each run a tracked task with meta.schedule; stop() ends it', async () => {
    const payloads: unknown[] = []
    const refresh = defineTask('refresh-rates', { run: (payload: { currency: string }) => void payloads.push(payload) })
    const { scheduler, clock } = manualScheduler({ tasks: [refresh] })
    const handle = scheduler.repeat('rates', refresh, { currency: 'EUR' }, { every: 1_000 })
    assert.equal(handle.id, 'rates')
    assert.deepEqual(scheduler.schedules(), [
      { id: 'rates', name: 'refresh-rates', every: 1_000, nextInMs: 1_000, spawned: 0, skipped: 0, refused: 0, lastTaskId: null },
    ])
    for (let i = 0; i < 3; i++) {
      clock.advance(1_000)
      await flush()
    }
    assert.deepEqual(payloads, [{ currency: 'EUR' }, { currency: 'EUR' }, { currency: 'EUR' }])
    assert.notEqual(payloads[0], payloads[1], 'each run gets its own copy')
    const [state] = scheduler.schedules()
    assert.equal(state!.spawned, 3)
    assert.equal(state!.nextInMs, 1_000)
    const [last] = scheduler.history(1)
    assert.equal(last!.id, state!.lastTaskId)
    assert.deepEqual(last!.meta, { schedule: 'rates' })
    assert.equal(handle.stop(), true)
    assert.equal(handle.stop(), false)
    clock.advance(5_000)
    await flush()
    assert.equal(payloads.length, 3)
    assert.deepEqual(scheduler.schedules(), [])
  })

  it('never overlaps: a turn while the last run is live spawns nothing and counts as skipped', async () => {
    const gate = deferred()
    let runs = 0
    const slow = defineTask('slow', {
      timeout: Infinity,
      run: async () => {
        runs++
        await gate.promise
      },
    })
    const { scheduler, clock } = manualScheduler({ tasks: [slow] })
    scheduler.repeat('s', slow, undefined, { every: 100, immediately: true })
    await flush()
    assert.equal(runs, 1)
    for (let i = 0; i < 3; i++) {
      clock.advance(100)
      await flush()
    }
    assert.equal(runs, 1)
    assert.equal(scheduler.schedules()[0]!.skipped, 3)
    gate.resolve()
    await flush()
    clock.advance(100)
    await flush()
    assert.equal(runs, 2)
    assert.equal(scheduler.schedules()[0]!.spawned, 2)
  })

  it('a refused turn is counted, the schedule goes on; close stops every schedule', async () => {
    const gate = deferred()
    const blocked = defineTask('blocked', { timeout: Infinity, run: () => gate.promise })
    const { scheduler, clock } = manualScheduler({ tasks: [blocked], concurrency: 1, maxQueue: 0 })
    scheduler.spawn('holder', () => gate.promise, { timeout: Infinity })
    scheduler.repeat('b', blocked, undefined, { every: 50 })
    clock.advance(50)
    await flush()
    assert.equal(scheduler.schedules()[0]!.refused, 1)
    assert.equal(scheduler.summary().rejected.queue_full, 1)
    const closing = scheduler.close({ timeout: 0 })
    assert.equal(scheduler.schedules()[0]!.nextInMs, null)
    assert.throws(() => scheduler.repeat('late', blocked, undefined, { every: 10 }), ClosingError)
    gate.resolve()
    for (let i = 0; i < 5; i++) {
      await flush()
      clock.advance(5_000)
    }
    await closing
    assert.equal(scheduler.schedules()[0]!.refused, 1, 'no turn after close')
  })

  it('repeating an id replaces its schedule; bad arguments are refused naming them', () => {
    const task = defineTask('t', { payload: {}, run: () => undefined })
    const { scheduler, clock } = manualScheduler({
      tasks: [task],
      compileSchema: () => (p) => (p === 'bad' ? { path: 'payload', problem: 'is bad' } : undefined),
    })
    const first = scheduler.repeat('x', task, 'ok', { every: 100 })
    scheduler.repeat('x', task, 'ok', { every: 200 })
    assert.equal(first.stop(), false, 'replaced')
    assert.deepEqual(
      scheduler.schedules().map((s) => s.every),
      [200],
    )
    clock.advance(0)
    assert.throws(() => scheduler.repeat('', task, 'ok', { every: 1 }), /Invalid repeat\(id\): expected a non-empty string/)
    assert.throws(
      () => scheduler.repeat('a\nb', task, 'ok', { every: 1 }),
      /Invalid repeat\(id\): expected a string without control characters/,
    )
    assert.throws(
      () => scheduler.repeat('y', task, 'ok', { every: 0 }),
      /Invalid repeat\(options\.every\): expected milliseconds as an integer from 1/,
    )
    assert.throws(() => scheduler.repeat('y', task, 'ok', { every: 10, cron: '* * * * *' } as never), /repeat\(options\).*cron/)
    assert.throws(() => scheduler.repeat('y', task, 'bad', { every: 10 }), InvalidPayloadError)
    assert.throws(() => scheduler.repeat('y', defineTask('other', { run: () => 1 }), undefined, { every: 10 }), UnknownTaskError)
    assert.deepEqual(
      scheduler.schedules().map((s) => s.id),
      ['x'],
    )
  })

  it('each turn gets the payload as it was when repeat() was called, whatever the caller does to its object; no user key collides', async () => {
    const got: unknown[] = []
    const task = defineTask('copy', { run: (payload: { n: number | string }) => void got.push(payload) })
    const { scheduler, clock } = manualScheduler({ tasks: [task] })
    const payload: { n: number | string } = { n: 1 }
    // A user's task with the key a schedule named "coll" would use if keys were not kept apart.
    const gate = deferred()
    scheduler.spawn(task, { n: 0 }, { key: 'schedule:coll', timeout: Infinity })
    scheduler.spawn('holder', () => gate.promise, { key: 'schedule:coll2' })
    scheduler.repeat('coll', task, payload, { every: 10 })
    payload.n = 'changed'
    clock.advance(10)
    await flush()
    clock.advance(10)
    await flush()
    assert.deepEqual(got.slice(1), [{ n: 1 }, { n: 1 }])
    assert.equal(scheduler.schedules()[0]!.skipped, 0)
    gate.resolve()
  })
})
