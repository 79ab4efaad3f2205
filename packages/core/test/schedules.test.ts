import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ClosingError, defineTask, InvalidPayloadError, Scheduler, UnknownTaskError } from '../src/index.js'
import { ManualClock } from '../src/testing.js'
import { deferred, flush, manualScheduler } from './helpers.js'

describe('repeating schedules', () => {
  it('spawns the task every interval, each run a tracked task with meta.schedule; stop() ends it', async () => {
    const payloads: unknown[] = []
    const refresh = defineTask('refresh-rates', { run: (payload: { currency: string }) => void payloads.push(payload) })
    const { scheduler, clock } = manualScheduler({ tasks: [refresh] })
    const handle = scheduler.repeat('rates', refresh, { currency: 'EUR' }, { every: 1_000 })
    assert.equal(handle.id, 'rates')
    assert.deepEqual(scheduler.schedules(), [
      {
        id: 'rates',
        name: 'refresh-rates',
        every: 1_000,
        cron: null,
        tz: null,
        nextInMs: 1_000,
        spawned: 0,
        skipped: 0,
        refused: 0,
        lastTaskId: null,
        where: 'memory',
      },
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
    for (const id of ['', 'a\nb', 'a:b', 'a b', 'x'.repeat(129), 7]) {
      assert.throws(
        () => scheduler.repeat(id as string, task, 'ok', { every: 1 }),
        /Invalid repeat\(id\): expected 1 to 128 letters, digits, "\.", "_" or "-"/,
        String(id),
      )
    }
    scheduler.repeat('Nightly_report.v2-1', task, 'ok', { every: 1 }).stop()
    assert.throws(
      () => scheduler.repeat('y', task, 'ok', { every: 0 }),
      /Invalid repeat\(options\.every\): expected milliseconds as an integer from 1/,
    )
    assert.throws(
      () => scheduler.repeat('y', task, 'ok', { every: 10, cron: '* * * * *' } as never),
      /repeat\(options\): expected one of `every` and `cron`, not both/,
    )
    assert.throws(
      () => scheduler.repeat('y', task, 'ok', {} as never),
      /repeat\(options\): expected an object with `every` \(ms\) or `cron`/,
    )
    assert.throws(
      () => scheduler.repeat('y', task, 'ok', { every: 10, tz: 'UTC' } as never),
      /repeat\(options\.tz\): expected a time zone only with `cron`/,
    )
    for (const cron of ['', '  ', 'nonsense', '* * * * * * *', '0 0 31 2 *', 5, '*', '* * *', '*/2 * * *']) {
      assert.throws(
        () => scheduler.repeat('y', task, 'ok', { cron } as never),
        /Invalid repeat\(options\.cron\): expected a cron pattern of 5 or 6 fields/,
        String(cron),
      )
    }
    for (const tz of ['Mars/Olympus', '', 3]) {
      assert.throws(
        () => scheduler.repeat('y', task, 'ok', { cron: '0 3 * * *', tz } as never),
        /Invalid repeat\(options\.tz\): expected an IANA time zone/,
        String(tz),
      )
    }
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

  it('a cron pattern fires at its wall-clock times, in its time zone; immediately adds one run now', async () => {
    const runs: string[] = []
    const clock = new ManualClock(0, Date.UTC(2026, 0, 1, 0, 0, 0))
    const task = defineTask('nightly', { run: () => void runs.push(new Date(clock.wallTime()).toISOString()) })
    const scheduler = new Scheduler({ clock, tasks: [task] })
    scheduler.repeat('utc', task, undefined, { cron: '0 3 * * *', tz: 'UTC' })
    // 03:00 in Paris is 02:00 UTC in winter.
    scheduler.repeat('paris', task, undefined, { cron: '0 3 * * *', tz: 'Europe/Paris', immediately: true })
    await flush()
    assert.deepEqual(runs, ['2026-01-01T00:00:00.000Z'])
    assert.deepEqual(
      scheduler.schedules().map((s) => [s.id, s.every, s.cron, s.tz, s.nextInMs]),
      [
        ['utc', null, '0 3 * * *', 'UTC', 3 * HOUR],
        ['paris', null, '0 3 * * *', 'Europe/Paris', 2 * HOUR],
      ],
    )
    for (let h = 0; h < 48; h++) {
      clock.advance(HOUR)
      await flush()
    }
    assert.deepEqual(runs, [
      '2026-01-01T00:00:00.000Z',
      '2026-01-01T02:00:00.000Z',
      '2026-01-01T03:00:00.000Z',
      '2026-01-02T02:00:00.000Z',
      '2026-01-02T03:00:00.000Z',
    ])
    assert.deepEqual(
      scheduler.schedules().map((s) => s.spawned),
      [2, 3],
    )
    await scheduler.close()
  })

  it('a cron time further than a timer reaches still fires once, at its time', async () => {
    const runs: number[] = []
    const clock = new ManualClock(0, Date.UTC(2026, 0, 1, 0, 0, 1))
    const task = defineTask('yearly', { run: () => void runs.push(clock.wallTime()) })
    const scheduler = new Scheduler({ clock, tasks: [task] })
    scheduler.repeat('new-year', task, undefined, { cron: '0 0 1 1 *', tz: 'UTC' })
    assert.equal(scheduler.schedules()[0]!.nextInMs, Date.UTC(2027, 0, 1) - Date.UTC(2026, 0, 1, 0, 0, 1))
    for (let day = 0; day < 400; day++) {
      clock.advance(24 * HOUR)
      await flush()
    }
    assert.deepEqual(runs, [Date.UTC(2027, 0, 1)])
    await scheduler.close()
  })

  it('a cron turn whose timer fires before the wall clock reaches its time runs once, not twice', async () => {
    // A wall clock running 0.1 % slower than the timers (the two drift apart on a real machine, and
    // NTP slews the wall clock): each timer fires a little before its wall-clock time.
    class LaggingClock extends ManualClock {
      override wallTime(): number {
        return Date.UTC(2026, 0, 1) + Math.floor(this.now() * 0.999)
      }
    }
    const clock = new LaggingClock()
    let runs = 0
    const task = defineTask('every-minute', { run: () => void runs++ })
    const scheduler = new Scheduler({ clock, tasks: [task] })
    scheduler.repeat('m', task, undefined, { cron: '* * * * *', tz: 'UTC' })
    for (let i = 0; i < 10; i++) {
      clock.advance(60_000)
      await flush()
    }
    // Ten minutes of timers are 9 min 59.4 s of wall clock: nine minute marks, each run once.
    assert.equal(runs, 9)
    await scheduler.close()
  })

  it('unschedule(id) stops the schedule of that id, as its handle would', async () => {
    const task = defineTask('u', { run: () => undefined })
    const { scheduler } = manualScheduler({ tasks: [task] })
    const handle = scheduler.repeat('u1', task, undefined, { every: 10 })
    await handle.admitted
    assert.equal(await scheduler.unschedule('u1'), true)
    assert.equal(await scheduler.unschedule('u1'), false)
    assert.equal(handle.stop(), false)
    assert.deepEqual(scheduler.schedules(), [])
    assert.equal(await scheduler.backendSchedules(), undefined)
    await assert.rejects(scheduler.unschedule('a b'), /Invalid unschedule\(id\)/)
  })
})

const HOUR = 3_600_000
