import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { defineTask, InvalidPayloadError, Scheduler, type SchemaCompiler } from '../src/index.js'
import { deferred, flush, hang, manualScheduler, untilAborted } from './helpers.js'

describe('retries of named tasks', () => {
  it('a failed attempt runs again after the backoff, pending and without a slot; the handle settles once, after the last', async () => {
    const attempts: number[] = []
    const flaky = defineTask('flaky', {
      retries: 2,
      run: (_: undefined, { attempt }) => {
        attempts.push(attempt)
        if (attempt < 3) throw new Error(`boom ${attempt}`)
        return 'done'
      },
    })
    const { scheduler, clock } = manualScheduler({ tasks: [flaky], concurrency: 1 })
    const retrying: [string, number, number][] = []
    scheduler.subscribe({
      retrying: (task, error, delayMs) =>
        void retrying.push([(error as Error).message, delayMs, (task as { attempt?: number }).attempt ?? 0]),
    })
    let settled = false
    const handle = scheduler.spawn(flaky, undefined)
    void handle.settled.then(() => (settled = true))
    await flush()
    assert.deepEqual(attempts, [1])
    assert.equal(handle.state, 'pending')
    // The slot is free meanwhile: another task runs at once.
    const other = scheduler.spawn('other', () => 'ran')
    assert.equal((await other.settled).outcome, 'completed')
    assert.deepEqual(scheduler.summary().live, { pending: 1, delayed: 1, running: 0, aborting: 0, total: 1 })
    const [row] = scheduler.list().tasks
    assert.equal(row!.attempt, 2)
    assert.equal(row!.startsInMs, 1_000)
    // Exponential backoff, 1 s then 2 s by default.
    clock.advance(999)
    await flush()
    assert.deepEqual(attempts, [1])
    clock.advance(1)
    await flush()
    assert.deepEqual(attempts, [1, 2])
    clock.advance(1_999)
    await flush()
    assert.deepEqual(attempts, [1, 2])
    clock.advance(1)
    await flush()
    assert.deepEqual(attempts, [1, 2, 3])
    assert.deepEqual(await handle.settled, { outcome: 'completed', value: 'done' })
    assert.ok(settled)
    assert.deepEqual(retrying, [
      ['boom 1', 1_000, 2],
      ['boom 2', 2_000, 3],
    ])
    const [entry] = scheduler.history(1)
    assert.equal(entry!.attempts, 3)
    assert.equal(entry!.queueWaitMs, 0, 'the wait counts from when it could start, not from the spawn')
    assert.deepEqual(scheduler.summary().outcomes, { completed: 2, failed: 0, cancelled: 0, timed_out: 0, dropped: 0 })
  })

  it('the last failure settles the task failed, with its attempts in history; fixed backoff and maxDelay hold', async () => {
    const delays: number[] = []
    const always = defineTask('always', {
      retries: 3,
      backoff: { type: 'exponential', delay: 100, maxDelay: 250 },
      run: (_: undefined, { attempt }) => Promise.reject(new Error(`attempt ${attempt}`)),
    })
    const fixed = defineTask('fixed', { retries: 2, backoff: { type: 'fixed', delay: 50 }, run: () => Promise.reject(new Error('no')) })
    const { scheduler, clock } = manualScheduler({ tasks: [always, fixed] })
    scheduler.subscribe({ retrying: (task, _error, delayMs) => void delays.push(task.name === 'fixed' ? -delayMs : delayMs) })
    const a = scheduler.spawn(always, undefined)
    const f = scheduler.spawn(fixed, undefined)
    for (let i = 0; i < 20; i++) {
      await flush()
      clock.advance(50)
    }
    const settlement = await a.settled
    assert.equal(settlement.outcome, 'failed')
    assert.equal((settlement as { error: Error }).error.message, 'attempt 4')
    assert.equal((await f.settled).outcome, 'failed')
    assert.deepEqual(
      delays.filter((d) => d > 0),
      [100, 200, 250],
    )
    assert.deepEqual(
      delays.filter((d) => d < 0),
      [-50, -50],
    )
    const history = scheduler.history()
    assert.equal(history.find((h) => h.name === 'always')!.attempts, 4)
    assert.equal(history.find((h) => h.name === 'fixed')!.attempts, 3)
  })

  it('a deadline, a cancel or a refused payload is never retried', async () => {
    let runs = 0
    const slow = defineTask('slow', { retries: 5, timeout: 100, run: (_: undefined, ctx) => (runs++, untilAborted(ctx)) })
    let accept = true
    const compile: SchemaCompiler = () => () => (accept ? undefined : { path: 'payload', problem: 'changed' })
    const checked = defineTask('checked', { retries: 5, payload: {}, run: () => 'ran' })
    const { scheduler, clock } = manualScheduler({ tasks: [slow, checked], compileSchema: compile, concurrency: 1 })
    const timedOut = scheduler.spawn(slow, undefined)
    clock.advance(100)
    await flush()
    assert.equal((await timedOut.settled).outcome, 'timed_out')
    assert.equal(runs, 1)

    const cancelled = scheduler.spawn(slow, undefined)
    await flush()
    cancelled.cancel()
    assert.equal((await cancelled.settled).outcome, 'cancelled')
    assert.equal(runs, 2)

    const gate = deferred()
    scheduler.spawn('blocker', () => gate.promise)
    const refused = scheduler.spawn(checked, {})
    accept = false
    gate.resolve()
    const settlement = await refused.settled
    assert.equal(settlement.outcome, 'failed')
    assert.ok((settlement as { error: unknown }).error instanceof InvalidPayloadError)
    assert.equal(scheduler.history().find((h) => h.name === 'checked')!.attempts, 1)
  })

  it('a task waiting to be retried can be cancelled; close drops it and does not retry what fails meanwhile', async () => {
    const fails = defineTask('fails', { retries: 3, run: () => Promise.reject(new Error('x')) })
    const { scheduler, clock } = manualScheduler({ tasks: [fails] })
    const waiting = scheduler.spawn(fails, undefined)
    await flush()
    assert.equal(waiting.state, 'pending')
    assert.equal(scheduler.cancel(waiting.id), true)
    assert.equal((await waiting.settled).outcome, 'cancelled')
    assert.equal(scheduler.liveCount, 0)

    const dropped = scheduler.spawn(fails, undefined)
    await flush()
    assert.equal(dropped.state, 'pending')
    const gate = deferred()
    const failsLater = defineTask('fails-later', {
      retries: 3,
      run: async () => {
        await gate.promise
        throw new Error('late')
      },
    })
    const other = new Scheduler({ clock, tasks: [failsLater] })
    const running = other.spawn(failsLater, undefined)
    const closing = other.close({ timeout: 10_000 })
    gate.resolve()
    await flush()
    assert.equal((await running.settled).outcome, 'failed', 'not retried while closing')
    await closing

    const report = scheduler.close({ timeout: 0 })
    await flush()
    clock.advance(10_000)
    const closed = await report
    assert.deepEqual(await dropped.settled, { outcome: 'dropped', reason: 'shutdown' })
    assert.equal(closed.dropped, 1)
  })
})

describe('delayed spawns', () => {
  it('a task spawned with a delay waits pending, holds no slot, then queues; its queue wait counts from then', async () => {
    const { scheduler, clock } = manualScheduler({ concurrency: 1 })
    const ran: string[] = []
    const later = scheduler.spawn('later', () => void ran.push('later'), { delay: 500 })
    assert.equal(later.state, 'pending')
    assert.deepEqual(scheduler.summary().live, { pending: 1, delayed: 1, running: 0, aborting: 0, total: 1 })
    assert.equal(scheduler.list().tasks[0]!.startsInMs, 500)
    assert.equal(scheduler.groups()[0]!.name, 'later')
    scheduler.spawn('now', () => void ran.push('now'))
    await flush()
    assert.deepEqual(ran, ['now'])
    let idle = false
    void scheduler.onIdle().then(() => (idle = true))
    await flush()
    assert.equal(idle, false, 'onIdle waits for delayed tasks')
    clock.advance(500)
    await flush()
    assert.deepEqual(ran, ['now', 'later'])
    assert.equal(idle, true)
    assert.equal(scheduler.history(1)[0]!.queueWaitMs, 0)
  })

  it('delayed tasks count against maxQueue, can be cancelled, and are dropped at close', async () => {
    const { scheduler, clock } = manualScheduler({ maxQueue: 2, concurrency: 1, timeout: Infinity })
    scheduler.spawn('runs', hang)
    const a = scheduler.spawn('a', () => 1, { delay: 1_000 })
    scheduler.spawn('b', () => 1, { delay: 2_000 })
    assert.throws(() => scheduler.spawn('c', () => 1, { delay: 10 }), /queue is full/)
    assert.equal(scheduler.cancel(a.id), true)
    assert.deepEqual(await a.settled, { outcome: 'cancelled', reason: 'caller' })
    const closing = scheduler.close({ timeout: 0 })
    for (let i = 0; i < 5; i++) {
      await flush()
      clock.advance(5_000)
    }
    const report = await closing
    assert.equal(report.dropped, 1)
    assert.equal(report.abandoned.find((g) => g.name === 'b')?.dropped, 1)
  })

  it('refuses a bad delay, naming it', () => {
    const { scheduler } = manualScheduler({})
    assert.throws(() => scheduler.spawn('x', () => 1, { delay: -1 }), /Invalid spawn\(options\.delay\)/)
    assert.throws(() => scheduler.spawn('x', () => 1, { delay: Infinity }), /Invalid spawn\(options\.delay\)/)
    assert.throws(() => scheduler.spawn('x', () => 1, { delay: 2 ** 31 }), /Invalid spawn\(options\.delay\)/)
    // 0 is no delay at all.
    assert.equal(scheduler.spawn('x', hang, { delay: 0 }).state, 'running')
  })
})

describe('rate limits per name', () => {
  it('at most max starts per window: the rest wait in the queue, holding nothing, and start when it ends', async () => {
    const { scheduler, clock } = manualScheduler({ limits: { rate: { sms: { max: 2, duration: 1_000 } } } })
    const started: string[] = []
    for (let i = 0; i < 5; i++) scheduler.spawn('sms', () => void started.push(`sms${i}`))
    scheduler.spawn('mail', () => void started.push('mail'))
    await flush()
    // Two sms, and the other name is not held back by them.
    assert.deepEqual(started, ['sms0', 'sms1', 'mail'])
    const state = scheduler.limitOf('sms')!
    assert.deepEqual(state.rate, { max: 2, duration: 1_000, startsInWindow: 2, heldForMs: 1_000 })
    assert.equal(state.waiting, 3)
    clock.advance(999)
    await flush()
    assert.equal(started.length, 3)
    clock.advance(1)
    await flush()
    assert.deepEqual(started, ['sms0', 'sms1', 'mail', 'sms2', 'sms3'])
    clock.advance(1_000)
    await flush()
    assert.deepEqual(started.at(-1), 'sms4')
    assert.equal(scheduler.liveCount, 0)
    assert.equal(scheduler.limitOf('sms')!.rate!.heldForMs, 0)
  })

  it('a spawn after the window ended starts at once; bad rate options are refused naming them', async () => {
    const { scheduler, clock } = manualScheduler({ limits: { rate: { a: { max: 1, duration: 100 } } } })
    assert.equal(scheduler.spawn('a', hang).state, 'running')
    assert.equal(scheduler.spawn('a', hang).state, 'pending')
    clock.advance(100)
    await flush()
    assert.equal(scheduler.limitOf('a')!.running, 2)
    assert.throws(
      () => new Scheduler({ limits: { rate: { a: { max: 0, duration: 1 } } } }),
      /Invalid limits\.rate\.a\.max: expected an integer >= 1/,
    )
    assert.throws(
      () => new Scheduler({ limits: { rate: { a: { max: 1, duration: 0 } } } }),
      /Invalid limits\.rate\.a\.duration: expected milliseconds as an integer from 1/,
    )
    assert.throws(() => new Scheduler({ limits: { rate: { a: { max: 1, duration: 1, per: 2 } as never } } }), /limits\.rate\.a.*per/)
    const closing = scheduler.close({ timeout: 0 })
    for (let i = 0; i < 5; i++) {
      await flush()
      clock.advance(5_000)
    }
    await closing
  })
})
