import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { deferred, flush, manualScheduler } from './helpers.js'

describe('spawn', () => {
  it('runs the task at once when a slot is free and reports completed with its value', async () => {
    const { scheduler } = manualScheduler()
    const handle = scheduler.spawn('double', ({ name }) => `${name}:${2 * 21}`)
    assert.equal(handle.state, 'completed')
    assert.deepEqual(await handle.settled, { outcome: 'completed', value: 'double:42' })
  })

  it('gives the task id, name, a signal and progress()', async () => {
    const { scheduler } = manualScheduler()
    const seen: unknown[] = []
    const handle = scheduler.spawn('ctx', (ctx) => {
      seen.push(ctx.id, ctx.name, ctx.signal.aborted, typeof ctx.progress)
      ctx.progress()
    })
    await handle.settled
    assert.deepEqual(seen, [handle.id, 'ctx', false, 'function'])
  })

  it('regression: progress and cancel work when destructured', async () => {
    const { scheduler } = manualScheduler()
    const handle = scheduler.spawn('destructure', ({ progress, signal }) => {
      progress()
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)))
    })
    const { cancel } = handle
    assert.equal(cancel('operator'), true)
    const settlement = await handle.settled
    assert.equal(settlement.outcome === 'cancelled' && settlement.reason, 'operator')
  })

  it('carries an opaque data value for listeners, never shown in snapshots', () => {
    const { scheduler } = manualScheduler()
    const data = { logger: 'mine' }
    const handle = scheduler.spawn('with-data', () => new Promise(() => {}), { data })
    assert.equal(handle.data, data)
    assert.doesNotMatch(JSON.stringify(scheduler.list()), /mine/)
  })

  it('tracks a promise until it resolves', async () => {
    const { scheduler } = manualScheduler()
    const d = deferred<number>()
    const handle = scheduler.spawn('later', () => d.promise)
    assert.equal(handle.state, 'running')
    assert.equal(scheduler.liveCount, 1)
    d.resolve(7)
    assert.deepEqual(await handle.settled, { outcome: 'completed', value: 7 })
    assert.equal(handle.state, 'completed')
    assert.equal(scheduler.liveCount, 0)
  })

  it('turns a synchronous throw, a rejection and a rejected thenable into failed, never an unhandledRejection', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason)
    }
    process.on('unhandledRejection', onUnhandled)
    try {
      const { scheduler } = manualScheduler()
      const boom = new Error('boom')
      const sync = scheduler.spawn('sync-throw', () => {
        throw boom
      })
      const rejects = scheduler.spawn('rejects', () => Promise.reject(boom))
      const asyncThrow = scheduler.spawn('async-throw', async () => {
        await Promise.resolve()
        throw boom
      })
      const thenable = scheduler.spawn('thenable', () => ({
        then(_ok: (v: unknown) => void, fail: (e: unknown) => void) {
          fail(boom)
        },
      }))
      const badThen = scheduler.spawn('then-getter-throws', () => ({
        get then(): never {
          throw boom
        },
      }))
      for (const handle of [sync, rejects, asyncThrow, thenable, badThen]) {
        assert.deepEqual(await handle.settled, { outcome: 'failed', error: boom }, handle.name)
      }
      // Nobody ever asked for `settled` on this one: still no unhandled rejection.
      scheduler.spawn('ignored', () => Promise.reject(new Error('ignored')))
      await flush()
      assert.deepEqual(unhandled, [])
      assert.equal(scheduler.summary().outcomes.failed, 6)
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })

  it('accepts a plain (non-promise) return value, including null and undefined', async () => {
    const { scheduler } = manualScheduler()
    assert.deepEqual(await scheduler.spawn('undefined', () => undefined).settled, { outcome: 'completed', value: undefined })
    assert.deepEqual(await scheduler.spawn('null', () => null).settled, { outcome: 'completed', value: null })
    const fnValue = (): void => {}
    assert.deepEqual(await scheduler.spawn('fn', () => fnValue).settled, { outcome: 'completed', value: fnValue })
  })

  it('settles exactly once even when a thenable calls both callbacks repeatedly', async () => {
    const { scheduler } = manualScheduler()
    const settledEvents: string[] = []
    scheduler.subscribe({ settled: (task, s) => settledEvents.push(`${task.name}:${s.outcome}`) })
    const handle = scheduler.spawn('twice', () => ({
      then(ok: (v: unknown) => void, fail: (e: unknown) => void) {
        ok(1)
        ok(2)
        fail(new Error('late'))
      },
    }))
    assert.deepEqual(await handle.settled, { outcome: 'completed', value: 1 })
    assert.deepEqual(settledEvents, ['twice:completed'])
  })

  it('returns the same settled promise every time, and one after the fact', async () => {
    const { scheduler } = manualScheduler()
    const handle = scheduler.spawn('x', () => 1)
    assert.equal(handle.settled, handle.settled)
    assert.deepEqual(await handle.settled, { outcome: 'completed', value: 1 })
  })

  it('gives each task a distinct id, and get(id) finds live tasks only', async () => {
    const { scheduler } = manualScheduler()
    const d = deferred()
    const a = scheduler.spawn('a', () => d.promise)
    const b = scheduler.spawn('b', () => 1)
    assert.notEqual(a.id, b.id)
    assert.equal(scheduler.get(a.id), a)
    assert.equal(scheduler.get(b.id), undefined)
    assert.equal(scheduler.get('nope'), undefined)
    d.resolve()
    await a.settled
    assert.equal(scheduler.get(a.id), undefined)
  })
})
