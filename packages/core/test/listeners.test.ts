import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { OverloadedError, type LifecycleEvent } from '../src/index.js'
import { deferred, manualScheduler, untilAborted } from './helpers.js'

describe('lifecycle listeners', () => {
  it('see spawned, started, aborted, settled and rejected in order, with queue wait and duration', async () => {
    const { scheduler, clock } = manualScheduler({ concurrency: 1, maxQueue: 1 })
    const events: string[] = []
    scheduler.subscribe({
      spawned: (t) => events.push(`spawned ${t.name}`),
      started: (t, wait) => events.push(`started ${t.name} after ${wait}`),
      aborted: (t, reason) => events.push(`aborted ${t.name} ${reason}`),
      settled: (t, s, duration) => events.push(`settled ${t.name} ${s.outcome} in ${duration}`),
      rejected: (r) => events.push(`rejected ${r.name} ${r.error.reason}`),
    })
    const gate = deferred()
    scheduler.spawn('a', () => gate.promise)
    const b = scheduler.spawn('b', untilAborted)
    assert.throws(() => scheduler.spawn('c', () => 1))
    clock.advance(40)
    gate.resolve()
    await new Promise((resolve) => setImmediate(resolve))
    clock.advance(10)
    b.cancel()
    await b.settled
    assert.deepEqual(events, [
      'spawned a',
      'started a after 0',
      'spawned b',
      'rejected c queue_full',
      'settled a completed in 40',
      'started b after 40',
      'aborted b caller',
      'settled b cancelled in 10',
    ])
  })

  it('a throwing listener is reported and never breaks the scheduler or other listeners', async () => {
    const reported: LifecycleEvent[] = []
    const { scheduler } = manualScheduler({ onListenerError: (_error, event) => void reported.push(event as LifecycleEvent) })
    const seen: string[] = []
    scheduler.subscribe({
      spawned: () => {
        throw new Error('listener bug')
      },
      settled: () => {
        throw new Error('listener bug')
      },
    })
    scheduler.subscribe({ settled: (t) => seen.push(t.name) })
    const handle = scheduler.spawn('survives', () => 'ok')
    assert.deepEqual(await handle.settled, { outcome: 'completed', value: 'ok' })
    assert.deepEqual(seen, ['survives'])
    assert.deepEqual(reported, ['spawned', 'settled'])
  })

  it('without onListenerError, a throwing listener becomes a process warning', async () => {
    const { scheduler } = manualScheduler()
    const warnings: string[] = []
    const onWarning = (warning: Error): void => void warnings.push(warning.message)
    process.on('warning', onWarning)
    try {
      scheduler.subscribe({
        started: () => {
          throw new Error('oops')
        },
      })
      await scheduler.spawn('x', () => 1).settled
      await new Promise((resolve) => setImmediate(resolve))
      assert.equal(warnings.length, 1)
      assert.match(warnings[0]!, /"started" listener threw: Error: oops/)
    } finally {
      process.off('warning', onWarning)
    }
  })

  it('the admission check refuses with OverloadedError by priority; a throwing check admits', () => {
    let overloaded = true
    let checkThrows = false
    const { scheduler } = manualScheduler({
      onListenerError: () => {},
      admission: ({ priority }) => {
        if (checkThrows) throw new Error('check bug')
        return !overloaded || priority === 'critical'
      },
    })
    assert.throws(
      () => scheduler.spawn('analytics', () => 1, { priority: 'low' }),
      (e: unknown) => e instanceof OverloadedError && e.reason === 'overloaded' && e.code === 'FT_OVERLOADED',
    )
    assert.equal(scheduler.spawn('payment', () => 1, { priority: 'critical' }).state, 'completed')
    overloaded = false
    assert.equal(scheduler.spawn('analytics', () => 1, { priority: 'low' }).state, 'completed')
    checkThrows = true
    assert.equal(scheduler.spawn('analytics', () => 1).state, 'completed')
    assert.equal(scheduler.summary().rejected.overloaded, 1)
  })

  it('unsubscribe stops delivery and is idempotent', () => {
    const { scheduler } = manualScheduler()
    const seen: string[] = []
    const off = scheduler.subscribe({ spawned: (t) => seen.push(t.name) })
    scheduler.spawn('one', () => 1)
    off()
    off()
    scheduler.spawn('two', () => 1)
    assert.deepEqual(seen, ['one'])
  })
})

describe('deferring under overload', () => {
  it("admission 'defer' queues a task even with free slots; the start gate holds it until recheckStartGate()", async () => {
    let overloaded = true
    const { scheduler } = manualScheduler({
      admission: ({ priority }) => (overloaded && priority === 'low' ? 'defer' : true),
      startGate: (priority) => !(overloaded && priority === 'low'),
    })
    const low = scheduler.spawn('reindex', () => 'done', { priority: 'low' })
    const critical = scheduler.spawn('charge', () => 'charged', { priority: 'critical' })
    assert.equal(low.state, 'pending')
    assert.equal(critical.state, 'completed')
    assert.equal(scheduler.summary().deferred, 1)
    scheduler.recheckStartGate()
    assert.equal(low.state, 'pending', 'still held while overloaded')
    overloaded = false
    scheduler.recheckStartGate()
    assert.deepEqual(await low.settled, { outcome: 'completed', value: 'done' })
  })

  it('rejects bad startGate values, naming the option', () => {
    assert.throws(() => manualScheduler({ startGate: 'no' as never }), /Invalid startGate/)
  })
})
