import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { InvalidOptionError, QueueFullError, Scheduler, type OverflowPolicy, type TaskHandle } from '../src/index.js'
import { deferred, flush, manualScheduler } from './helpers.js'

describe('concurrency and the queue', () => {
  it('never runs more than `concurrency` tasks at once and starts waiting ones as slots free', async () => {
    const { scheduler } = manualScheduler({ concurrency: 2 })
    const gates = [deferred(), deferred(), deferred(), deferred()]
    let running = 0
    let peak = 0
    const handles = gates.map((gate, i) =>
      scheduler.spawn(`t${i}`, async () => {
        running++
        peak = Math.max(peak, running)
        await gate.promise
        running--
      }),
    )
    assert.deepEqual(
      handles.map((h) => h.state),
      ['running', 'running', 'pending', 'pending'],
    )
    gates[0]!.resolve()
    await handles[0]!.settled
    await flush()
    assert.deepEqual(
      handles.map((h) => h.state),
      ['completed', 'running', 'running', 'pending'],
    )
    for (const gate of gates) gate.resolve()
    await Promise.all(handles.map((h) => h.settled))
    assert.equal(peak, 2)
  })

  it('rejects with QueueFullError (queue_full) when the queue is full under the default policy', () => {
    const { scheduler } = manualScheduler({ concurrency: 1, maxQueue: 1, retryAfter: 3 })
    const gate = deferred()
    scheduler.spawn('running', () => gate.promise)
    scheduler.spawn('waiting', () => 1)
    assert.throws(
      () => scheduler.spawn('extra', () => 1),
      (error: unknown) => {
        assert.ok(error instanceof QueueFullError)
        assert.equal(error.code, 'FT_QUEUE_FULL')
        assert.equal(error.reason, 'queue_full')
        assert.equal(error.retryAfter, 3)
        assert.equal(error.task, 'extra')
        assert.match(error.message, /"extra".*maxQueue 1/)
        return true
      },
    )
    assert.equal(scheduler.summary().rejected.queue_full, 1)
    assert.equal(scheduler.liveCount, 2)
  })

  it('maxQueue 0 means no waiting at all', () => {
    const { scheduler } = manualScheduler({ concurrency: 1, maxQueue: 0 })
    scheduler.spawn('running', () => deferred().promise)
    assert.throws(() => scheduler.spawn('extra', () => 1), QueueFullError)
  })

  it('drop_oldest evicts the longest-waiting task, which ends dropped with reason overflow', async () => {
    const { scheduler } = manualScheduler({ concurrency: 1, maxQueue: 2, overflow: 'drop_oldest' })
    scheduler.spawn('running', () => deferred().promise)
    const first = scheduler.spawn('first', () => 1, { priority: 'critical' })
    const second = scheduler.spawn('second', () => 1)
    const third = scheduler.spawn('third', () => 1)
    assert.deepEqual(await first.settled, { outcome: 'dropped', reason: 'overflow' })
    assert.equal(second.state, 'pending')
    assert.equal(third.state, 'pending')
    assert.equal(scheduler.summary().outcomes.dropped, 1)
  })

  it('drop_lowest_priority evicts the newest lowest-priority task, or refuses a newcomer that ranks lowest', async () => {
    const { scheduler } = manualScheduler({ concurrency: 1, maxQueue: 2, overflow: 'drop_lowest_priority' })
    scheduler.spawn('running', () => deferred().promise)
    const lowOld = scheduler.spawn('low-old', () => 1, { priority: 'low' })
    const lowNew = scheduler.spawn('low-new', () => 1, { priority: 'low' })
    const high = scheduler.spawn('high', () => 1, { priority: 'high' })
    assert.deepEqual(await lowNew.settled, { outcome: 'dropped', reason: 'overflow' })
    assert.equal(lowOld.state, 'pending')
    assert.equal(high.state, 'pending')
    // Queue now holds low-old and high: a newcomer of the same lowest level replaces the newest low.
    const low2 = scheduler.spawn('low-2', () => 1, { priority: 'low' })
    assert.deepEqual(await lowOld.settled, { outcome: 'dropped', reason: 'overflow' })
    // Queue holds high and low-2; a critical newcomer evicts low-2.
    scheduler.spawn('critical', () => 1, { priority: 'critical' })
    assert.equal(low2.state, 'dropped')
    // Queue holds high and critical; a normal newcomer ranks lowest and is refused.
    assert.throws(() => scheduler.spawn('normal', () => 1), QueueFullError)
  })

  it('refuses the kebab-case policy names of before 1.0, listing the snake_case ones', () => {
    for (const old of ['drop-oldest', 'drop-lowest-priority']) {
      assert.throws(
        () => new Scheduler({ overflow: old as OverflowPolicy }),
        (e: unknown) =>
          e instanceof InvalidOptionError && e.option === 'overflow' && e.message.includes("'drop_oldest', 'drop_lowest_priority'"),
      )
    }
  })

  it('starts waiting tasks by priority, FIFO within a level', async () => {
    const { scheduler } = manualScheduler({ concurrency: 1, agingInterval: Infinity })
    const gate = deferred()
    const order: string[] = []
    scheduler.spawn('blocker', () => gate.promise)
    const handles: TaskHandle[] = []
    for (const [name, priority] of [
      ['low-1', 'low'],
      ['normal-1', 'normal'],
      ['critical-1', 'critical'],
      ['high-1', 'high'],
      ['normal-2', 'normal'],
      ['critical-2', 'critical'],
    ] as const) {
      handles.push(scheduler.spawn(name, () => void order.push(name), { priority }))
    }
    gate.resolve()
    await Promise.all(handles.map((h) => h.settled))
    assert.deepEqual(order, ['critical-1', 'critical-2', 'high-1', 'normal-1', 'normal-2', 'low-1'])
  })

  it('ages waiting tasks so low priority cannot starve behind a stream of high', async () => {
    const { scheduler, clock } = manualScheduler({ concurrency: 1, agingInterval: 1_000 })
    const order: string[] = []
    let gate = deferred()
    scheduler.spawn('blocker', () => gate.promise)
    const low = scheduler.spawn('low', () => void order.push('low'), { priority: 'low' })
    // Every 500 ms a fresh high task arrives and the running one finishes.
    for (let i = 0; i < 6 && low.state === 'pending'; i++) {
      clock.advance(500)
      const next = deferred()
      scheduler.spawn(
        `high-${i}`,
        () => {
          order.push(`high-${i}`)
          return next.promise
        },
        { priority: 'high' },
      )
      const finishing = gate
      gate = next
      finishing.resolve()
      await flush()
    }
    // low (rank 3) outranks a fresh high (rank 1) once it has waited 3 intervals (rank 0 < 1).
    assert.equal(low.state, 'completed')
    assert.ok(order.indexOf('low') <= 3, `low started at position ${order.indexOf('low')} of ${order.join(',')}`)
    gate.resolve()
  })

  it('raising concurrency at run time starts waiting tasks at once; lowering it never preempts', async () => {
    const { scheduler } = manualScheduler({ concurrency: 1 })
    const gates = [deferred(), deferred(), deferred()]
    const handles = gates.map((g, i) => scheduler.spawn(`t${i}`, () => g.promise))
    assert.deepEqual(
      handles.map((h) => h.state),
      ['running', 'pending', 'pending'],
    )
    scheduler.concurrency = 3
    assert.deepEqual(
      handles.map((h) => h.state),
      ['running', 'running', 'running'],
    )
    scheduler.concurrency = 1
    assert.equal(scheduler.summary().live.running, 3)
    const extra = scheduler.spawn('extra', () => 1)
    gates[0]!.resolve()
    gates[1]!.resolve()
    await flush()
    assert.equal(extra.state, 'pending')
    gates[2]!.resolve()
    await extra.settled
  })

  it('runs a long queue of synchronous tasks iteratively (no stack overflow)', async () => {
    const { scheduler } = manualScheduler({ concurrency: 1, maxQueue: 200_000 })
    const gate = deferred()
    scheduler.spawn('blocker', () => gate.promise)
    let ran = 0
    for (let i = 0; i < 100_000; i++) scheduler.spawn('sync', () => void ran++)
    gate.resolve()
    await flush()
    assert.equal(ran, 100_000)
    assert.equal(scheduler.liveCount, 0)
  })
})

describe('yielding', () => {
  it('regression: a queue of CPU-bound synchronous tasks does not run in one turn of the event loop', async () => {
    const scheduler = new Scheduler({ concurrency: 1, maxQueue: 1_000 })
    const gate = deferred()
    scheduler.spawn('blocker', () => gate.promise)
    let ran = 0
    for (let i = 0; i < 50; i++) {
      scheduler.spawn('cpu', () => {
        const end = performance.now() + 2
        while (performance.now() < end) {
          // 2 ms of synchronous work
        }
        ran++
      })
    }
    gate.resolve()
    await Promise.resolve()
    await Promise.resolve()
    // The first slice runs about 10 ms of tasks, then the scheduler yields.
    let turnsObserved = 0
    while (ran < 50 && turnsObserved < 1_000) {
      await new Promise((resolve) => setImmediate(resolve))
      turnsObserved++
    }
    assert.equal(ran, 50)
    assert.ok(turnsObserved >= 5, `the 100 ms of work was spread over ${turnsObserved} turns`)
  })
})

describe('yielding, async', () => {
  it('regression: async tasks that finish without a real await are also spread over turns', async () => {
    const scheduler = new Scheduler({ concurrency: 1, maxQueue: 1_000 })
    let ran = 0
    for (let i = 0; i < 50; i++) {
      scheduler.spawn('cpu', async () => {
        const end = performance.now() + 2
        while (performance.now() < end) {
          // 2 ms of synchronous work
        }
        ran++
      })
    }
    let turns = 0
    while (ran < 50 && turns < 1_000) {
      await new Promise((resolve) => setImmediate(resolve))
      turns++
    }
    assert.equal(ran, 50)
    assert.ok(turns >= 5, `the 100 ms of work was spread over ${turns} turns`)
  })

  it('regression: a deferred low-priority head does not hold back critical work', async () => {
    let overloaded = true
    const { scheduler, clock } = manualScheduler({
      concurrency: 1,
      agingInterval: 100,
      admission: ({ priority }) => (overloaded && priority === 'low' ? 'defer' : true),
      startGate: (priority) => !(overloaded && priority === 'low'),
    })
    const gate = deferred()
    scheduler.spawn('blocker', () => gate.promise, { priority: 'critical' })
    const low = scheduler.spawn('old-low', () => 1, { priority: 'low' })
    clock.advance(1_000) // the low task has aged past critical
    const critical = scheduler.spawn('fresh-critical', () => 'ran', { priority: 'critical' })
    gate.resolve()
    assert.deepEqual(await critical.settled, { outcome: 'completed', value: 'ran' })
    assert.equal(low.state, 'pending')
    overloaded = false
    scheduler.recheckStartGate()
    assert.equal((await low.settled).outcome, 'completed')
  })
})
