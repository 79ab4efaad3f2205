import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Scheduler, TaskAbortedError } from '../src/index.js'
import { ManualClock } from '../src/testing.js'
import { deferred, flush, hang, manualScheduler, untilAborted } from './helpers.js'

describe('deadlines, leaks and stuck tasks', () => {
  it('applies the default deadline: timeout aborts the signal with a timeout reason, then timed_out', async () => {
    const { scheduler, clock } = manualScheduler({ timeout: 1_000 })
    let reason: unknown
    const handle = scheduler.spawn('slow', (ctx) =>
      untilAborted(ctx).catch((error: unknown) => {
        reason = error
        throw error
      }),
    )
    clock.advance(999)
    assert.equal(handle.state, 'running')
    clock.advance(1)
    assert.equal(handle.state, 'aborting')
    assert.equal(handle.abortReason, 'timeout')
    const settlement = await handle.settled
    assert.equal(settlement.outcome, 'timed_out')
    assert.ok(reason instanceof TaskAbortedError)
    assert.equal(reason.reason, 'timeout')
    assert.equal(reason.name, 'TimeoutError')
    assert.equal(reason.code, 'FT_TASK_ABORTED')
  })

  it('a deadline beyond the longest Node timer (2^31 - 1 ms) is armed in steps, never as a timer Node would fire at once', async () => {
    const clock = new ManualClock()
    const delays: number[] = []
    const setTimeout = clock.setTimeout.bind(clock)
    clock.setTimeout = (callback: () => void, ms: number) => {
      delays.push(ms)
      return setTimeout(callback, ms)
    }
    const scheduler = new Scheduler({ clock })
    const handle = scheduler.spawn('long', untilAborted, { timeout: 3e9 })
    assert.deepEqual(delays, [2 ** 31 - 1])
    clock.advance(2 ** 31 - 1)
    await flush()
    assert.equal(handle.state, 'running')
    assert.equal(delays.length, 2)
    assert.equal(delays[1], 3e9 - (2 ** 31 - 1))
    clock.advance(3e9 - (2 ** 31 - 1))
    await flush()
    assert.equal((await handle.settled).outcome, 'timed_out')
  })

  it('a per-task timeout overrides the default, and deadlines count from start, not from spawn', async () => {
    const { scheduler, clock } = manualScheduler({ concurrency: 1, timeout: 10_000 })
    const gate = deferred()
    scheduler.spawn('blocker', () => gate.promise)
    const quick = scheduler.spawn('quick-deadline', untilAborted, { timeout: 100 })
    clock.advance(5_000)
    assert.equal(quick.state, 'pending')
    gate.resolve()
    await flush()
    assert.equal(quick.state, 'running')
    clock.advance(100)
    assert.equal(quick.state, 'aborting')
    assert.equal((await quick.settled).outcome, 'timed_out')
  })

  it('a timed-out task gives its slot to a waiting one at once and ends timed_out when it settles', async () => {
    const { scheduler, clock } = manualScheduler({ concurrency: 1, timeout: 100, abortGrace: 1_000 })
    const release = deferred()
    const stubborn = scheduler.spawn('stubborn', () => release.promise)
    const next = scheduler.spawn('next', () => deferred().promise)
    clock.advance(100)
    assert.equal(stubborn.state, 'aborting')
    assert.equal(next.state, 'running', 'a task past its deadline holds no slot')
    assert.deepEqual(scheduler.summary().live, { pending: 0, delayed: 0, running: 1, aborting: 1, total: 2 })
    release.resolve()
    assert.equal((await stubborn.settled).outcome, 'timed_out')
    assert.equal(stubborn.release, undefined, 'it settled by itself')
  })

  it('flags a task leaked once it ignores its abort for abortGrace, and counts it', async () => {
    const { scheduler, clock } = manualScheduler({ timeout: 100, abortGrace: 500 })
    const leakedEvents: string[] = []
    scheduler.subscribe({ leaked: (task) => leakedEvents.push(task.name) })
    const handle = scheduler.spawn('ignores-signal', hang)
    clock.advance(100)
    assert.equal(handle.leaked, false)
    clock.advance(499)
    assert.equal(handle.leaked, false)
    clock.advance(1)
    assert.equal(handle.leaked, true)
    assert.equal(handle.state, 'aborting')
    assert.deepEqual(leakedEvents, ['ignores-signal'])
    assert.deepEqual(scheduler.summary().leaked, { live: 1, total: 1 })
    clock.advance(10_000)
    assert.deepEqual(leakedEvents, ['ignores-signal'], 'flagged once')
  })

  it('timeout: Infinity is honoured when asked for by name', () => {
    const { scheduler, clock } = manualScheduler({ timeout: 100 })
    const handle = scheduler.spawn('forever', hang, { timeout: Infinity })
    clock.advance(1e9)
    assert.equal(handle.state, 'running')
    assert.equal(handle.timeout, Infinity)
    assert.equal(clock.pendingTimers, 0, 'no timer for a task without a deadline')
  })

  it('the manual clock refuses to go backwards', () => {
    const { clock } = manualScheduler()
    assert.throws(() => clock.advance(-1), RangeError)
    assert.throws(() => clock.advance(Number.NaN), RangeError)
  })

  it('uses one shared timer for many deadlines', () => {
    const { scheduler, clock } = manualScheduler({ concurrency: 10_000, timeout: 1_000, maxGivenUpPerName: 5_000 })
    for (let i = 0; i < 5_000; i++) scheduler.spawn('many', hang)
    assert.equal(clock.pendingTimers, 1)
    clock.advance(1_000)
    assert.equal(scheduler.summary().live.aborting, 5_000)
  })

  it('flags stuck running tasks that made no progress for stuckAfter; progress() clears it', () => {
    const { scheduler, clock } = manualScheduler({ timeout: Infinity, stuckAfter: 1_000 })
    let progress: () => void = () => {}
    scheduler.spawn('worker', (ctx) => {
      progress = () => ctx.progress()
      return hang()
    })
    clock.advance(999)
    assert.equal(scheduler.summary().stuck, 0)
    clock.advance(1)
    assert.equal(scheduler.summary().stuck, 1)
    assert.equal(scheduler.list().tasks[0]!.stuck, true)
    progress()
    assert.equal(scheduler.summary().stuck, 0)
    assert.equal(scheduler.list().tasks[0]!.sinceProgressMs, 0)
  })

  it('emits progress only to listeners that want it', () => {
    const { scheduler } = manualScheduler()
    const seen: string[] = []
    const unsubscribe = scheduler.subscribe({ progress: (task) => seen.push(task.name) })
    scheduler.spawn('p', (ctx) => {
      ctx.progress()
      ctx.progress()
    })
    unsubscribe()
    scheduler.spawn('q', (ctx) => ctx.progress())
    assert.deepEqual(seen, ['p', 'p'])
  })

  it('a signal read after the abort is already aborted with the same reason', async () => {
    const { scheduler, clock } = manualScheduler({ timeout: 10 })
    const gate = deferred()
    let context: { signal: AbortSignal } | undefined
    const handle = scheduler.spawn('late-reader', (ctx) => {
      context = ctx
      return gate.promise
    })
    clock.advance(10)
    const late = context!.signal
    assert.equal(late.aborted, true)
    assert.equal((late.reason as TaskAbortedError).reason, 'timeout')
    gate.resolve()
    assert.equal((await handle.settled).outcome, 'timed_out')
  })
})
