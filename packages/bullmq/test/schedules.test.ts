import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { BackendUnavailableError, Scheduler, defineTask, type AnyTaskDefinition, type TaskContext } from '@fastify-tasks/core'
import { startRedis, type RedisServer } from '@fastify-tasks/redis-server'
import { bullmqBackend, type BullmqBackend, type BullmqBackendOptions } from '../src/index.js'
import { until } from './helpers.js'

let redis: RedisServer
let queues = 0
const open: Scheduler[] = []

before(async () => {
  redis = await startRedis()
})
after(async () => {
  await Promise.all(open.map((s) => s.close({ timeout: 0 })))
  await redis.close()
})

async function replica(
  queue: string,
  tasks: AnyTaskDefinition[],
  backend: Partial<BullmqBackendOptions> = {},
): Promise<{ scheduler: Scheduler; backend: BullmqBackend }> {
  const b = bullmqBackend({ connection: redis.url, queue, onError: () => {}, ...backend })
  const s = new Scheduler({ tasks, backend: b })
  open.push(s)
  await b.ready()
  return { scheduler: s, backend: b }
}

const uniqueQueue = (): string => `schedules-${process.pid}-${++queues}`

describe('schedules on the bullmq backend', { timeout: 120_000 }, () => {
  it('a schedule both replicas declare runs once per turn, on whichever worker takes it, as a tracked task with meta.schedule', async () => {
    const queue = uniqueQueue()
    const runs: { id: string; payload: unknown; replica: string }[] = []
    const tick = (replica: string) =>
      defineTask('tick', {
        run: (payload: { region: string }, { id }: TaskContext) => void runs.push({ id, payload, replica }),
      })
    const tickA = tick('a')
    const tickB = tick('b')
    const a = await replica(queue, [tickA])
    const b = await replica(queue, [tickB])
    // Each replica declares the schedule at start-up, as an app does.
    const handleA = a.scheduler.repeat('tick', tickA, { region: 'eu' }, { every: 200, immediately: true })
    const handleB = b.scheduler.repeat('tick', tickB, { region: 'eu' }, { every: 200, immediately: true })
    await Promise.all([handleA.admitted, handleB.admitted])
    await until(() => runs.length >= 4)
    assert.equal(await a.scheduler.unschedule('tick'), true, 'removed for both')
    assert.equal(await b.scheduler.unschedule('tick'), false)
    const slots = runs.map((run) => {
      const match = /^repeat:tick:(\d+)$/.exec(run.id)
      assert.ok(match, `a job of the schedule: ${run.id}`)
      return Number(match[1])
    })
    assert.equal(new Set(slots).size, slots.length, `one run per turn: ${runs.map((r) => r.id).join(', ')}`)
    const sorted = [...slots].sort((x, y) => x - y)
    for (let i = 1; i < sorted.length; i++) assert.equal((sorted[i]! - sorted[0]!) % 200, 0, 'turns 200 ms apart')
    assert.deepEqual(runs[0]!.payload, { region: 'eu' })
    const entry = [...a.scheduler.history(100), ...b.scheduler.history(100)].find((h) => h.id === runs[0]!.id)
    assert.deepEqual(entry?.meta, { schedule: 'tick' })
    assert.deepEqual(await a.scheduler.backendSchedules(), { schedules: [], total: 0 })
  })

  it('shows in backendSchedules() with its next time; a later repeat() of the same id (a restart) neither adds a run nor moves it; stop() removes it and its next job', async () => {
    const queue = uniqueQueue()
    let runs = 0
    const report = defineTask('report', { priority: 'low', timeout: 10_000, retries: 2, run: () => void runs++ })
    const first = await replica(queue, [report])
    const handle = first.scheduler.repeat('hourly-report', report, undefined, { every: 3_600_000 })
    await handle.admitted
    const [kept] = (await first.scheduler.backendSchedules())!.schedules
    assert.equal(kept!.id, 'hourly-report')
    assert.equal(kept!.name, 'report')
    assert.equal(kept!.every, 3_600_000)
    assert.equal(kept!.cron, null)
    assert.equal(kept!.where, 'bullmq')
    assert.equal(kept!.skipped, null)
    assert.ok(kept!.nextInMs! > 0 && kept!.nextInMs! <= 3_600_000, `first turn after one interval: ${kept!.nextInMs}`)
    const next = kept!.nextInMs!
    assert.deepEqual((({ delayed, active, completed }) => ({ delayed, active, completed }))(await first.backend.jobCounts()), {
      delayed: 1,
      active: 0,
      completed: 0,
    })
    // Another replica starts and declares it again: same next time (give or take the ms between the reads).
    const second = await replica(queue, [report])
    await second.scheduler.repeat('hourly-report', report, undefined, { every: 3_600_000 }).admitted
    const [again] = (await second.scheduler.backendSchedules())!.schedules
    assert.ok(Math.abs(again!.nextInMs! - next) < 60_000, `kept its time: ${next} then ${again!.nextInMs}`)
    assert.equal((await second.backend.jobCounts()).delayed, 1, 'still one next job')
    assert.equal(handle.stop(), true)
    await until(async () => (await first.scheduler.backendSchedules())!.total === 0)
    assert.equal((await first.backend.jobCounts()).delayed, 0, 'its next job went with it')
    assert.equal(await second.scheduler.unschedule('hourly-report'), false)
    assert.equal(runs, 0)
  })

  it('a cron schedule runs at its pattern times; immediately adds a run only where the schedule is made, not at each replica start', async () => {
    const queue = uniqueQueue()
    const ids: string[] = []
    const newYear = defineTask('new-year', { run: (_: undefined, { id }: TaskContext) => void ids.push(id) })
    const a = await replica(queue, [newYear])
    await a.scheduler.repeat('new-year', newYear, undefined, { cron: '0 0 1 1 *', tz: 'UTC', immediately: true }).admitted
    await until(() => ids.length === 1)
    const b = await replica(queue, [newYear])
    await b.scheduler.repeat('new-year', newYear, undefined, { cron: '0 0 1 1 *', tz: 'UTC', immediately: true }).admitted
    const [kept] = (await b.scheduler.backendSchedules())!.schedules
    assert.equal(kept!.cron, '0 0 1 1 *')
    assert.equal(kept!.tz, 'UTC')
    assert.equal(kept!.every, null)
    const newYearsDay = Date.UTC(new Date().getUTCFullYear() + 1, 0, 1)
    assert.ok(Math.abs(Date.now() + kept!.nextInMs! - newYearsDay) < 60_000, 'next at the next 1 January 00:00 UTC')
    const counts = await b.backend.jobCounts()
    assert.deepEqual(
      { delayed: counts.delayed, completed: counts.completed, active: counts.active },
      { delayed: 1, completed: 1, active: 0 },
    )
    assert.equal(ids.length, 1, 'the second declaration ran nothing')

    const seconds: string[] = []
    const everySecond = defineTask('every-second', { run: (_: undefined, { id }: TaskContext) => void seconds.push(id) })
    const c = await replica(uniqueQueue(), [everySecond])
    const handle = c.scheduler.repeat('each-second', everySecond, undefined, { cron: '* * * * * *' })
    await handle.admitted
    await until(() => seconds.length >= 2)
    handle.stop()
    for (const id of seconds) assert.match(id, /^repeat:each-second:\d+000$/, 'at whole seconds')
  })

  it('repeat() while Redis is down: admitted rejects with BackendUnavailableError naming the schedule', async () => {
    const own = await startRedis()
    const noop = defineTask('noop', { run: () => undefined })
    const b = bullmqBackend({ connection: own.url, queue: uniqueQueue(), role: 'producer', admissionTimeout: 500, onError: () => {} })
    const s = new Scheduler({ tasks: [noop], backend: b })
    await b.ready()
    await own.stop()
    try {
      const handle = s.repeat('nightly', noop, undefined, { cron: '0 3 * * *' })
      await assert.rejects(handle.admitted, (error: unknown) => {
        assert.ok(error instanceof BackendUnavailableError)
        assert.match(error.message, /^Schedule "nightly" was not kept \(unavailable\): the bullmq backend did not acknowledge it/)
        return true
      })
      await assert.rejects(s.unschedule('nightly'), BackendUnavailableError)
      assert.equal(await s.backendSchedules(), null, 'no answer: unknown, not none')
    } finally {
      await s.close({ timeout: 0 })
      await own.close()
    }
  })
})
