import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { InvalidOptionError, QueueFullError, type TaskHandle } from '../src/index.js'
import { deferred, flush, hang, manualScheduler, untilAborted } from './helpers.js'

describe('the given-up set: tasks past their deadline or cancelled hold no slot', () => {
  it('hung non-abortable calls (2 %) no longer take every slot: the rest keep completing (adoption regression)', async () => {
    const { scheduler, clock } = manualScheduler({ concurrency: 4, maxQueue: 10, timeout: 100 })
    const handles: TaskHandle[] = []
    // 500 tasks, one in 50 hangs and ignores its signal; the others finish within 10 ms.
    for (let i = 0; i < 500; i++) {
      const hangs = i % 50 === 0
      handles.push(
        scheduler.spawn('touch-last-seen', () => (hangs ? hang() : new Promise<void>((resolve) => clock.setTimeout(resolve, 1)))),
      )
      clock.advance(10)
      await flush(2)
    }
    clock.advance(5_200) // past every hung task's deadline and abort grace
    await flush()
    const summary = scheduler.summary()
    assert.deepEqual(summary.rejected, { queue_full: 0, overloaded: 0, closing: 0, unavailable: 0 }, 'never refused')
    assert.equal(summary.outcomes.completed, 490)
    assert.equal(summary.live.running, 0)
    assert.equal(summary.live.aborting, 10, 'the hung ones stay visible')
    assert.equal(summary.leaked.live, 10)
    const [group] = scheduler.groups()
    assert.deepEqual([group!.name, group!.state, group!.count, group!.leaked], ['touch-last-seen', 'aborting', 10, 10])
  })

  it('cooperative tasks still cannot overcommit: functions in flight never exceed concurrency', async () => {
    const { scheduler, clock } = manualScheduler({ concurrency: 3, timeout: 1_000 })
    let inFlight = 0
    let most = 0
    const work = async (): Promise<void> => {
      inFlight++
      most = Math.max(most, inFlight)
      await new Promise<void>((resolve) => clock.setTimeout(resolve, 10))
      inFlight--
    }
    for (let i = 0; i < 30; i++) scheduler.spawn('work', work)
    for (let i = 0; i < 20 && scheduler.liveCount > 0; i++) {
      clock.advance(10)
      await flush()
    }
    assert.equal(scheduler.summary().outcomes.completed, 30)
    assert.equal(most, 3)
  })

  it('calls in flight to one name stay within concurrency + maxGivenUpPerName when every task hangs', async () => {
    const { scheduler, clock } = manualScheduler({ concurrency: 2, timeout: 10, maxGivenUpPerName: 3, maxQueue: 100 })
    let started = 0
    for (let i = 0; i < 20; i++) scheduler.spawn('dep', () => (started++, hang()))
    let most = 0
    for (let i = 0; i < 30; i++) {
      const { running, aborting } = scheduler.summary().live
      most = Math.max(most, running + aborting)
      clock.advance(10)
      await flush(1)
    }
    assert.equal(started, 20)
    assert.equal(most, 5, 'running (2) + given up (3)')
    assert.equal(scheduler.summary().givenUp.evicted, 17)
  })

  it("a name at its cap evicts its own oldest, never another name's", async () => {
    const { scheduler, clock } = manualScheduler({ concurrency: 10, timeout: 100, maxGivenUpPerName: 2 })
    const other = scheduler.spawn('other', hang)
    const bad = [scheduler.spawn('bad', hang), scheduler.spawn('bad', hang)]
    clock.advance(100)
    const newest = scheduler.spawn('bad', hang)
    clock.advance(100)
    assert.equal(other.state, 'aborting')
    assert.equal(bad[0]!.state, 'timed_out')
    assert.equal(bad[0]!.release, 'evicted')
    assert.equal(bad[1]!.state, 'aborting')
    assert.equal(newest.state, 'aborting')
    assert.deepEqual(await bad[0]!.settled, { outcome: 'timed_out' })
    const summary = scheduler.summary()
    assert.equal(summary.givenUp.evicted, 1)
    assert.deepEqual(summary.givenUp.full, ['bad'])
    const row = scheduler.history().find((entry) => entry.id === bad[0]!.id)
    assert.deepEqual([row?.outcome, row?.release, row?.reason], ['timed_out', 'evicted', 'timeout'])
  })

  it('the total cap evicts the oldest given-up task of any name', () => {
    const { scheduler, clock } = manualScheduler({ concurrency: 10, timeout: 100, maxGivenUp: 2 })
    const a = scheduler.spawn('a', hang)
    clock.advance(50)
    const b = scheduler.spawn('b', hang)
    const c = scheduler.spawn('c', hang)
    clock.advance(50) // a given up
    clock.advance(50) // b and c given up: a is evicted to make room
    assert.deepEqual([a.state, a.release, b.state, c.state], ['timed_out', 'evicted', 'aborting', 'aborting'])
  })

  it('a given-up task that never settles ends after givenUpTtl, so settled always resolves', async () => {
    const { scheduler, clock } = manualScheduler({ timeout: 100, abortGrace: 50, givenUpTtl: 1_000 })
    const task = scheduler.spawn('hangs', hang)
    clock.advance(100)
    clock.advance(50)
    assert.equal(task.leaked, true)
    clock.advance(949)
    assert.equal(task.state, 'aborting')
    clock.advance(1)
    assert.deepEqual(await task.settled, { outcome: 'timed_out' })
    assert.equal(task.release, 'expired')
    const summary = scheduler.summary()
    assert.deepEqual([summary.givenUp.expired, summary.live.total, summary.leaked.live, summary.leaked.total], [1, 0, 0, 1])
    assert.equal(clock.pendingTimers, 0, 'no timer left for it')
  })

  it('a cancelled running task is given up too, and ends cancelled with its reason', async () => {
    const { scheduler } = manualScheduler({ concurrency: 1 })
    const stubborn = scheduler.spawn('stubborn', hang)
    const next = scheduler.spawn('next', () => 'ran')
    stubborn.cancel('operator')
    assert.equal(stubborn.state, 'aborting')
    assert.deepEqual(await next.settled, { outcome: 'completed', value: 'ran' })
  })

  it('a function that settles after its task was released is counted late and changes nothing', async () => {
    const { scheduler, clock } = manualScheduler({ timeout: 100, maxGivenUpPerName: 1 })
    const late: string[] = []
    const settled: string[] = []
    scheduler.subscribe({ late: (task) => late.push(task.id), settled: (task) => settled.push(task.id) })
    const gate = deferred<string>()
    const first = scheduler.spawn('slow', () => gate.promise)
    clock.advance(100)
    scheduler.spawn('slow', hang)
    clock.advance(100) // the second is given up: the first is evicted
    assert.equal(first.state, 'timed_out')
    gate.resolve('finally')
    await flush()
    assert.equal(first.state, 'timed_out')
    assert.deepEqual(await first.settled, { outcome: 'timed_out' })
    assert.deepEqual(late, [first.id])
    assert.deepEqual(settled, [first.id], 'one settled event')
    assert.equal(scheduler.summary().givenUp.late, 1)
  })

  it('maxGivenUpPerName 0 releases a task the moment it is given up', async () => {
    const { scheduler, clock } = manualScheduler({ timeout: 100, maxGivenUpPerName: 0 })
    const task = scheduler.spawn('x', hang)
    clock.advance(100)
    assert.deepEqual(await task.settled, { outcome: 'timed_out' })
    assert.equal(task.release, 'evicted')
    assert.equal(scheduler.liveCount, 0)
  })

  it('an aborted task that honours its signal ends on its own, not released', async () => {
    const { scheduler, clock } = manualScheduler({ timeout: 100 })
    const task = scheduler.spawn('polite', untilAborted)
    clock.advance(100)
    const settlement = await task.settled
    assert.equal(settlement.outcome, 'timed_out')
    assert.equal(task.release, undefined)
    assert.equal(scheduler.summary().givenUp.live, 0)
  })

  it('the drain does not wait for given-up tasks: it reports them at once', async () => {
    const { scheduler, clock } = manualScheduler({ timeout: 100, abortGrace: 5_000, spawnSite: 'always' })
    const hung = scheduler.spawn('hung', hang)
    clock.advance(100)
    assert.equal(hung.state, 'aborting')
    const report = await scheduler.close({ timeout: 10_000 })
    assert.equal(report.durationMs, 0, 'no clock time passed: nothing was waited for')
    assert.deepEqual(
      report.abandoned.map((g) => [g.name, g.count, g.givenUp, g.aborted, g.unsettled]),
      [['hung', 1, 1, 0, 1]],
    )
    assert.match(report.abandoned[0]!.site!, /given-up\.test\.ts:\d+$/)
    assert.deepEqual([hung.state, hung.release], ['timed_out', 'closed'])
  })

  it('a task given up while the drain waits ends at once and is reported; the drain goes on for the rest', async () => {
    const { scheduler, clock } = manualScheduler({ timeout: 100, abortGrace: 5_000 })
    const hung = scheduler.spawn('hung', hang)
    const slow = scheduler.spawn('slow', () => new Promise<void>((resolve) => clock.setTimeout(resolve, 300)), { timeout: 1_000 })
    let done = false
    const closed = scheduler.close({ timeout: 10_000 }).then((report) => ((done = true), report))
    clock.advance(100)
    assert.deepEqual([hung.state, hung.release], ['timed_out', 'closed'])
    await flush()
    assert.equal(done, false, 'still waiting for the slow task')
    clock.advance(200)
    const report = await closed
    assert.equal((await slow.settled).outcome, 'completed')
    assert.equal(report.givenUp, 1)
    assert.equal(report.durationMs, 300)
  })
})

describe('trySpawn: best-effort spawning', () => {
  it('returns undefined instead of throwing when refused, and the refusal is counted and reported', () => {
    const { scheduler } = manualScheduler({ concurrency: 1, maxQueue: 0 })
    const refusals: unknown[] = []
    scheduler.subscribe({ rejected: (spawn) => refusals.push(spawn.error) })
    assert.notEqual(scheduler.trySpawn('best-effort', hang), undefined)
    assert.equal(scheduler.trySpawn('best-effort', hang), undefined)
    assert.equal(scheduler.summary().rejected.queue_full, 1)
    assert.equal(refusals.length, 1)
    assert.ok(refusals[0] instanceof QueueFullError)
    assert.doesNotMatch((refusals[0] as Error).stack ?? '', /\n\s+at /, 'no stack captured for a refusal nobody throws')
  })

  it('returns undefined while closing', async () => {
    const { scheduler } = manualScheduler()
    await scheduler.close()
    assert.equal(
      scheduler.trySpawn('late', () => 1),
      undefined,
    )
    assert.equal(scheduler.summary().rejected.closing, 1)
  })

  it('still throws for bad arguments: those are bugs, not load', () => {
    const { scheduler } = manualScheduler()
    assert.throws(() => scheduler.trySpawn('', () => 1), InvalidOptionError)
    assert.throws(() => scheduler.trySpawn('x', 'nope' as never), InvalidOptionError)
    assert.throws(() => scheduler.trySpawn('x', () => 1, { priority: 'urgent' as never }), InvalidOptionError)
  })

  it('records the caller of trySpawn as the spawn site', () => {
    const { scheduler } = manualScheduler({ spawnSite: 'always' })
    const task = scheduler.trySpawn('sited', hang)
    assert.match(task!.site!, /given-up\.test\.ts:\d+$/)
  })
})

describe('given-up options', () => {
  for (const [option, value] of [
    ['maxGivenUpPerName', -1],
    ['maxGivenUpPerName', 1.5],
    ['maxGivenUpPerName', Infinity],
    ['maxGivenUp', '10'],
    ['maxGivenUp', -1],
    ['givenUpTtl', -1],
    ['givenUpTtl', Number.NaN],
  ] as const) {
    it(`refuses ${option}: ${String(value)} by name`, () => {
      assert.throws(
        () => manualScheduler({ [option]: value }),
        (error: Error) => error instanceof InvalidOptionError && error.message.includes(option),
      )
    })
  }
})
