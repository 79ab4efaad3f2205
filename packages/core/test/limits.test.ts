import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { InvalidOptionError, Scheduler, type NameLimitState } from '../src/index.js'
import { ManualClock } from '../src/testing.js'
import { deferred, flush, hang, manualScheduler, random } from './helpers.js'
import { SimulatedDependency, nextTurn } from './simulated-dependency.js'

/** A task that settles when told to. */
function gated(): { fn: () => Promise<void>; open: () => void } {
  const gate = deferred()
  return { fn: () => gate.promise, open: () => gate.resolve() }
}

describe('limits per task name', () => {
  it('a fixed limit holds one name back while other names start', () => {
    const { scheduler } = manualScheduler({ concurrency: 10, limits: { fixed: { mail: 2 } } })
    for (let i = 0; i < 5; i++) scheduler.spawn('mail', hang)
    scheduler.spawn('report', hang)
    assert.deepEqual(
      scheduler.limits().map((l) => [l.name, l.mode, l.limit, l.running, l.waiting]),
      [
        ['mail', 'fixed', 2, 2, 3],
        ['report', 'adaptive', 10, 1, 0],
      ],
    )
  })

  it('perName: a number fixes every name; false leaves only concurrency', () => {
    const fixed = manualScheduler({ concurrency: 10, limits: { perName: 3 } }).scheduler
    for (let i = 0; i < 5; i++) fixed.spawn('a', hang)
    assert.equal(fixed.summary().live.running, 3)
    assert.deepEqual(fixed.summary().limits.perName, 3)
    const none = manualScheduler({ concurrency: 4, limits: { perName: false } }).scheduler
    for (let i = 0; i < 6; i++) none.spawn('a', hang)
    assert.equal(none.summary().live.running, 4)
    assert.equal(none.limitOf('a')!.mode, 'none')
    assert.equal(none.limitOf('a')!.limit, null)
  })

  it('a waiting task of a name below its limit starts before older tasks of a name at its limit', async () => {
    const { scheduler } = manualScheduler({ concurrency: 3, limits: { fixed: { slow: 1 } } })
    const first = gated()
    scheduler.spawn('slow', first.fn)
    const blocker = gated()
    scheduler.spawn('other', blocker.fn)
    scheduler.spawn('other', hang)
    // The pool is full: a second slow task and a third other task wait, slow first.
    const slow2 = scheduler.spawn('slow', hang)
    const other3 = scheduler.spawn('other', hang)
    blocker.open()
    await flush()
    // A slot is free: slow is at its limit, so the younger other task takes it.
    assert.equal(slow2.state, 'pending')
    assert.equal(other3.state, 'running')
  })

  it('the bulkhead: while other names wait, one name holds at most maxShare of concurrency', async () => {
    const { scheduler } = manualScheduler({ concurrency: 4, limits: { maxShare: 0.5 } })
    const flood = Array.from({ length: 10 }, () => gated())
    for (const g of flood) scheduler.spawn('flood', g.fn)
    assert.equal(scheduler.limitOf('flood')!.running, 4, 'alone, a name may take every slot')
    for (let i = 0; i < 3; i++) scheduler.spawn('victim', hang)
    const running = (): [number, number] => [scheduler.limitOf('flood')!.running, scheduler.limitOf('victim')!.running]
    assert.deepEqual(running(), [4, 0])
    flood[0]!.open()
    await flush()
    assert.deepEqual(running(), [3, 1], 'a freed slot goes to the name below its share')
    flood[1]!.open()
    await flush()
    assert.deepEqual(running(), [2, 2])
    flood[2]!.open()
    await flush()
    assert.deepEqual(running(), [2, 2], 'now victim is at its share and flood below it')
  })

  it('a deep backlog of one name does not slow the start of another: the queue is not scanned', () => {
    const { scheduler } = manualScheduler({ concurrency: 20, maxQueue: 200_000, limits: { fixed: { backlog: 10 } } })
    for (let i = 0; i < 100_000; i++) scheduler.spawn('backlog', hang)
    const fresh = scheduler.spawn('fresh', hang)
    assert.equal(fresh.state, 'running')
    assert.equal(scheduler.limitOf('backlog')!.waiting, 99_990)
  })

  it('pages of waiting tasks stay in spawn order across names and levels', () => {
    const { scheduler } = manualScheduler({ concurrency: 1 })
    scheduler.spawn('busy', hang)
    const ids: string[] = []
    const names = ['b', 'a', 'c', 'a', 'b']
    const priorities = ['low', 'high', 'normal', 'normal', 'high'] as const
    names.forEach((name, i) => ids.push(scheduler.spawn(name, hang, { priority: priorities[i]! }).id))
    const page = scheduler.list({ state: 'pending', limit: 3 })
    assert.deepEqual(
      page.tasks.map((t) => t.id),
      ids.slice(0, 3),
    )
    const rest = scheduler.list({ state: 'pending', limit: 3, cursor: page.nextCursor! })
    assert.deepEqual(
      rest.tasks.map((t) => t.id),
      ids.slice(3),
    )
  })

  it('records queue waits per name', async () => {
    const { scheduler, clock } = manualScheduler({ concurrency: 1 })
    const first = gated()
    scheduler.spawn('w', first.fn)
    scheduler.spawn('w', hang)
    clock.advance(4_800)
    first.open()
    await flush()
    const wait = scheduler.limitOf('w')!.wait!
    assert.deepEqual(wait, { p50Ms: 0, p99Ms: 4_800, samples: 2 })
  })

  it('forgets idle names beyond a thousand, keeps busy ones', async () => {
    const { scheduler } = manualScheduler({ concurrency: 10 })
    scheduler.spawn('busy', hang)
    for (let i = 0; i < 1_500; i++) scheduler.spawn(`name-${i}`, () => undefined)
    await flush()
    const names = scheduler.limits().map((l) => l.name)
    assert.ok(names.length <= 1_001, `kept ${names.length} names`)
    assert.ok(names.includes('busy'))
  })

  it('refuses bad limits options, naming the option', () => {
    const cases: [unknown, string][] = [
      ['x', 'limits'],
      [{ perNme: 3 }, 'limits.perNme'],
      [{ perName: 0 }, 'limits.perName'],
      [{ perName: 'fast' }, 'limits.perName'],
      [{ fixed: { a: 1.5 } }, 'limits.fixed.a'],
      [{ fixed: 'a' }, 'limits.fixed'],
      [{ maxShare: 0 }, 'limits.maxShare'],
      [{ maxShare: 1.5 }, 'limits.maxShare'],
      [{ adaptive: { tolerance: 1 } }, 'limits.adaptive.tolerance'],
      [{ adaptive: { min: 5, initial: 2 } }, 'limits.adaptive.initial'],
      [{ adaptive: { initail: 2 } }, 'limits.adaptive.initail'],
      [{ pressure: true }, 'limits.pressure'],
    ]
    for (const [limits, option] of cases) {
      assert.throws(
        () => new Scheduler({ limits } as never),
        (error: unknown) => error instanceof InvalidOptionError && error.option === option,
        `${JSON.stringify(limits)} → ${option}`,
      )
    }
    assert.throws(() => new Scheduler().limitOf(3 as never), InvalidOptionError)
  })
})

describe('adaptive limits', () => {
  /** Runs a closed loop against `dependency` on the manual clock, sampling the name's limit every 50 ms. */
  async function drive(
    clock: ManualClock,
    scheduler: Scheduler,
    dependency: SimulatedDependency,
    ms: number,
    demand: (waiting: number, running: number) => number,
  ): Promise<number[]> {
    const limits: number[] = []
    for (let t = 0; t < ms; t++) {
      const state = scheduler.limitOf('dep')
      const extra = demand(state?.waiting ?? 0, state?.running ?? 0)
      for (let i = 0; i < extra; i++) scheduler.spawn('dep', () => dependency.call())
      clock.advance(1)
      await nextTurn()
      if (t % 50 === 0) limits.push(scheduler.limitOf('dep')!.limit!)
    }
    return limits
  }
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1]!
  const flood = (waiting: number): number => Math.max(0, 300 - waiting)

  it('starts at the ceiling: nothing waits that the pool could run', async () => {
    const { scheduler } = manualScheduler({ concurrency: 500 })
    const handles = Array.from({ length: 400 }, () => scheduler.spawn('io', hang))
    assert.equal(handles.filter((h) => h.state === 'running').length, 400)
    assert.equal(scheduler.limitOf('io')!.limit, 500)
  })

  it('settles near the capacity of a saturating dependency, follows it down and back up', async () => {
    const clock = new ManualClock()
    const scheduler = new Scheduler({ clock, timeout: Infinity, maxQueue: 100_000 })
    const dependency = new SimulatedDependency(clock, 40, 20, random(7))
    // Light load first: the baseline is the run time when the dependency is not saturated.
    await drive(clock, scheduler, dependency, 1_000, (waiting, running) => Math.max(0, 10 - running - waiting))
    assert.equal(scheduler.limitOf('dep')!.baselineMs! <= 20 * 1.25, true)
    const phases: [number, number][] = []
    for (const capacity of [40, 20, 40]) {
      dependency.capacity = capacity
      const limits = await drive(clock, scheduler, dependency, 6_000, flood)
      phases.push([capacity, median(limits.slice(-40))])
    }
    for (const [capacity, settled] of phases) {
      assert.ok(Math.abs(settled - capacity) <= capacity * 0.1, `capacity ${capacity}: settled at ${settled} (${JSON.stringify(phases)})`)
    }
    const state = scheduler.limitOf('dep')!
    assert.equal(state.mode, 'adaptive')
    assert.ok(state.changes > 0)
    assert.ok(state.lastChange !== null && (state.lastChange.cause === 'latency' || state.lastChange.cause === 'saturated'))
  })

  it('grows from a low initial limit by doubling while its tasks wait and run time holds', async () => {
    const clock = new ManualClock()
    const scheduler = new Scheduler({ clock, timeout: Infinity, maxQueue: 100_000, limits: { adaptive: { initial: 4 } } })
    const dependency = new SimulatedDependency(clock, 1_000, 10, random(3))
    const limits = await drive(clock, scheduler, dependency, 400, flood)
    assert.equal(limits[0], 4)
    assert.ok(limits.at(-1)! >= 64, `grew to ${limits.at(-1)}`)
    // Every step a doubling (up to the ceiling).
    for (const limit of limits) assert.ok(limit === 1_000 || Number.isInteger(Math.log2(limit)), `limit ${limit}`)
    const change = scheduler.limitOf('dep')!.lastChange!
    assert.equal(change.cause, 'saturated')
    assert.equal(change.to, Math.min(change.from * 2, 1_000))
  })

  it('under pressure, never grows nor learns; once it is over, the limit applies as it was and grows again', async () => {
    const clock = new ManualClock()
    let pressure: string | undefined = undefined
    const scheduler = new Scheduler({
      clock,
      timeout: Infinity,
      concurrency: 100_000,
      maxQueue: 100_000,
      limits: { adaptive: { initial: 8 }, pressure: () => pressure },
    })
    const dependency = new SimulatedDependency(clock, 1_000, 10, random(5))
    await drive(clock, scheduler, dependency, 60, flood)
    const before = scheduler.limitOf('dep')!
    assert.ok(before.limit! > 20 && before.limit! < 10_000, `grew to ${before.limit}`)
    pressure = 'event loop'
    // What the plugin's backpressure does meanwhile: the ceiling over every name comes down.
    scheduler.concurrency = 20
    const held = await drive(clock, scheduler, dependency, 300, flood)
    assert.deepEqual(new Set(held), new Set([before.limit]), 'the limit holds')
    assert.equal(scheduler.limitOf('dep')!.running, 20, 'the ceiling bounds what runs')
    assert.equal(scheduler.limitOf('dep')!.baselineMs, before.baselineMs, 'nothing learned')
    pressure = undefined
    scheduler.concurrency = 100_000
    await drive(clock, scheduler, dependency, 300, flood)
    assert.ok(scheduler.limitOf('dep')!.limit! > before.limit!, 'grows again once the pressure is over')
  })

  it('a throwing pressure hook counts as none and is reported', async () => {
    const clock = new ManualClock()
    const reported: unknown[] = []
    const scheduler = new Scheduler({
      clock,
      timeout: Infinity,
      limits: {
        adaptive: { initial: 2 },
        pressure: () => {
          throw new Error('boom')
        },
      },
      onListenerError: (error) => reported.push(error),
    })
    const dependency = new SimulatedDependency(clock, 1_000, 10, random(9))
    await drive(clock, scheduler, dependency, 300, flood)
    assert.ok(scheduler.limitOf('dep')!.limit! > 2)
    assert.ok(reported.length > 0)
  })

  it('a rise of a few milliseconds is noise, not saturation, however large the ratio', async () => {
    const clock = new ManualClock()
    const scheduler = new Scheduler({ clock, timeout: Infinity, concurrency: 50, maxQueue: 100_000 })
    let serviceMs = 2
    const call = (): Promise<void> => new Promise<void>((resolve) => clock.setTimeout(resolve, serviceMs))
    const run = async (ms: number): Promise<void> => {
      for (let t = 0; t < ms; t++) {
        for (let i = scheduler.limitOf('fast')?.waiting ?? 0; i < 100; i++) scheduler.spawn('fast', call)
        clock.advance(1)
        await nextTurn()
      }
    }
    await run(300)
    // 2 ms → 8 ms: four times the baseline, 6 ms more (a busy event loop does that to fast calls).
    serviceMs = 8
    await run(300)
    const state = scheduler.limitOf('fast')!
    assert.equal(state.latencyMs, 8)
    assert.equal(state.baselineMs! < 4, true)
    assert.equal(state.limit, 50)
    assert.notEqual(state.lastChange?.cause, 'latency')
    // 2 ms → 20 ms is a dependency queueing the work: the limit shrinks.
    serviceMs = 20
    await run(300)
    assert.equal(scheduler.limitOf('fast')!.lastChange?.cause, 'latency')
    assert.ok(scheduler.limitOf('fast')!.limit! < 50)
  })

  it('run time of tasks given up at their deadline counts: a hanging dependency shrinks the limit', async () => {
    const clock = new ManualClock()
    const scheduler = new Scheduler({ clock, timeout: 100, concurrency: 200, maxQueue: 100_000 })
    const dependency = new SimulatedDependency(clock, 1_000, 10, random(11))
    await drive(clock, scheduler, dependency, 500, (waiting, running) => Math.max(0, 20 - running - waiting))
    const hanging = (): Promise<void> => new Promise<void>(() => {})
    for (let t = 0; t < 2_000; t++) {
      const state = scheduler.limitOf('dep')!
      for (let i = state.waiting; i < 100; i++) scheduler.spawn('dep', hanging)
      clock.advance(1)
      await nextTurn()
    }
    const state: NameLimitState = scheduler.limitOf('dep')!
    assert.ok(state.limit! < 200, `limit ${state.limit}`)
    assert.equal(state.lastChange!.cause, 'latency')
  })
})
