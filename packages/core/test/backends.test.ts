import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  BackendUnavailableError,
  InvalidOptionError,
  InvalidPayloadError,
  NotDurableError,
  QueueFullError,
  Scheduler,
  UnknownTaskError,
  defineTask,
  type BackendCancel,
  type BackendHost,
  type BackendSchedule,
  type OutgoingSchedule,
  type OutgoingTask,
  type Settlement,
  type TaskBackend,
} from '../src/index.js'
import { ManualClock } from '../src/testing.js'
import { deferred, flush } from './helpers.js'

/** A backend that records what the scheduler asks of it; each enqueue waits for the test to acknowledge it. */
class RecordingBackend implements TaskBackend {
  readonly kind = 'recording'
  host: BackendHost | undefined
  readonly enqueued: { task: OutgoingTask; ack: ReturnType<typeof deferred<void>> }[] = []
  readonly calls: string[] = []
  readonly outcomes = new Map<string, ReturnType<typeof deferred<Settlement>>>()

  attach(host: BackendHost): void {
    this.host = host
  }
  enqueue(task: OutgoingTask): Promise<void> {
    const ack = deferred<void>()
    this.enqueued.push({ task, ack })
    return ack.promise
  }
  async cancel(id: string): Promise<BackendCancel> {
    this.calls.push(`cancel ${id}`)
    return 'cancelled'
  }
  watch(id: string): Promise<Settlement> {
    const outcome = deferred<Settlement>()
    this.outcomes.set(id, outcome)
    return outcome.promise
  }
  connected(): boolean {
    return true
  }
  async jobCounts(): Promise<Record<string, number>> {
    return { waiting: 2, active: 1 }
  }
  pauseConsuming(paused: boolean): void {
    this.calls.push(`pause ${paused}`)
  }
  stopConsuming(): void {
    this.calls.push('stop')
  }
  async close(budgetMs: number): Promise<void> {
    this.calls.push(`close ${budgetMs > 0}`)
  }
}

const mail = defineTask('mail', { timeout: 5_000, priority: 'low', retries: 2, run: ({ to }: { to: string }) => `sent to ${to}` })

describe('the backend seam', () => {
  it('a named spawn is handed to the backend, encoded; admitted resolves once it acknowledges', async () => {
    const backend = new RecordingBackend()
    const scheduler = new Scheduler({ tasks: [mail], backend })
    const handle = scheduler.spawn(mail, { to: 'a@example.com' }, { delay: 1_000 })
    assert.equal(backend.enqueued.length, 1)
    const { task, ack } = backend.enqueued[0]!
    assert.match(task.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    assert.deepEqual(
      { ...task, id: undefined },
      {
        id: undefined,
        name: 'mail',
        payload: '{"to":"a@example.com"}',
        priority: 'low',
        timeout: 5_000,
        attempts: 3,
        delay: 1_000,
        key: undefined,
        onDuplicate: 'join',
        labels: undefined,
        meta: undefined,
      },
    )
    assert.equal(handle.id, task.id)
    assert.equal(handle.state, 'pending')
    assert.deepEqual(scheduler.summary().backend, { kind: 'recording', connected: true, admitting: 1, enqueued: 0 })
    assert.deepEqual(await scheduler.backendJobs(), { waiting: 2, active: 1 })
    assert.equal(await new Scheduler().backendJobs(), undefined)
    ack.resolve()
    await handle.admitted
    assert.deepEqual(scheduler.summary().backend, { kind: 'recording', connected: true, admitting: 0, enqueued: 1 })
    assert.equal(scheduler.summary().spawned, 0, 'nothing runs here until the backend hands it over')
    const settled = handle.settled
    await flush()
    backend.outcomes.get(task.id)!.resolve({ outcome: 'completed', value: 'sent to a@example.com' })
    assert.deepEqual(await settled, { outcome: 'completed', value: 'sent to a@example.com' })
    assert.equal(handle.state, 'completed')
  })

  it('an acknowledgement refused: admitted rejects with BackendUnavailableError, settled says dropped, listeners and counts know', async () => {
    const backend = new RecordingBackend()
    const scheduler = new Scheduler({ tasks: [mail], backend, retryAfter: 3 })
    const rejected: string[] = []
    scheduler.subscribe({ rejected: ({ name, error }) => rejected.push(`${name} ${error.reason}`) })
    const handle = scheduler.spawn(mail, { to: 'b@example.com' })
    backend.enqueued[0]!.ack.reject(new Error('Command timed out'))
    await assert.rejects(handle.admitted, (error: unknown) => {
      assert.ok(error instanceof BackendUnavailableError)
      assert.equal(error.retryAfter, 3)
      assert.equal(error.backend, 'recording')
      assert.match(error.message, /"mail" was not admitted \(unavailable\).*Command timed out/)
      return true
    })
    assert.deepEqual(await handle.settled, { outcome: 'dropped', reason: 'unavailable' })
    assert.deepEqual(rejected, ['mail unavailable'])
    assert.equal(scheduler.summary().rejected.unavailable, 1)
  })

  it("a spawn with a key that joins a live task gets that task's id once admitted", async () => {
    const backend = new RecordingBackend()
    const scheduler = new Scheduler({ tasks: [mail], backend })
    const handle = scheduler.spawn(mail, { to: 'g' }, { key: 'mail:g' })
    const { task, ack } = backend.enqueued[0]!
    assert.equal(task.key, 'mail:g')
    assert.equal(handle.id, task.id)
    ;(ack as unknown as { resolve: (id: string) => void }).resolve('an-earlier-task')
    await handle.admitted
    assert.equal(handle.id, 'an-earlier-task')
  })

  it('refuses closures (NotDurableError, naming the task) and more unacknowledged spawns than maxQueue', () => {
    const backend = new RecordingBackend()
    const scheduler = new Scheduler({ tasks: [mail], backend, maxQueue: 1 })
    assert.throws(() => scheduler.spawn('warm-cache', () => 1), NotDurableError)
    scheduler.spawn(mail, { to: 'c' }, { key: 'k', onDuplicate: 'replace' })
    assert.equal(backend.enqueued[0]!.task.onDuplicate, 'replace', 'the backend replaces')
    assert.throws(() => scheduler.spawn(mail, { to: 'd' }), QueueFullError)
    assert.equal(scheduler.trySpawn(mail, { to: 'd' }), undefined)
    assert.throws(
      () => scheduler.repeat('hourly', mail, { to: 'e' }, { every: 3_600_000 }),
      /Invalid repeat\(\): expected a backend that keeps schedules: the recording backend has none/,
    )
    assert.equal(backend.enqueued.length, 1)
  })

  it('repeat() on a backend that keeps schedules hands the schedule to it; stop() and unschedule() remove it there', async () => {
    const kept: OutgoingSchedule[] = []
    const removed: string[] = []
    const broker: { down: Error | undefined } = { down: undefined }
    class SchedulingBackend extends RecordingBackend {
      async schedule(schedule: OutgoingSchedule): Promise<void> {
        await flush()
        if (broker.down !== undefined) throw broker.down
        kept.push(schedule)
      }
      async unschedule(id: string): Promise<boolean> {
        if (broker.down !== undefined) throw broker.down
        removed.push(id)
        return true
      }
      async schedules(limit: number): Promise<{ schedules: BackendSchedule[]; total: number }> {
        if (broker.down !== undefined) throw broker.down
        const at = Date.UTC(2026, 0, 1, 0, 1)
        const all = [{ id: 'hourly', name: 'mail', every: null, cron: '0 * * * *', tz: 'UTC', nextAt: at, spawned: 4 }]
        return { schedules: all.slice(0, limit), total: all.length }
      }
    }
    const backend = new SchedulingBackend()
    const scheduler = new Scheduler({ tasks: [mail], backend, clock: new ManualClock(0, Date.UTC(2026, 0, 1)) })
    const handle = scheduler.repeat('hourly', mail, { to: 'ops@example.com' }, { cron: '0 * * * *', tz: 'UTC' })
    assert.equal(kept.length, 0, 'handed over asynchronously')
    await handle.admitted
    assert.deepEqual(kept, [
      {
        id: 'hourly',
        name: 'mail',
        payload: '{"to":"ops@example.com"}',
        priority: 'low',
        timeout: 5_000,
        attempts: 3,
        every: null,
        cron: '0 * * * *',
        tz: 'UTC',
        immediately: false,
        meta: { schedule: 'hourly' },
      },
    ])
    assert.deepEqual(scheduler.schedules(), [], 'nothing runs a schedule in this process')
    assert.deepEqual((await scheduler.backendSchedules())?.schedules, [
      {
        id: 'hourly',
        name: 'mail',
        every: null,
        cron: '0 * * * *',
        tz: 'UTC',
        nextInMs: 60_000,
        spawned: 4,
        skipped: null,
        refused: null,
        lastTaskId: null,
        where: 'recording',
      },
    ])
    const again = scheduler.repeat('hourly', mail, { to: 'ops@example.com' }, { every: 60_000, immediately: true })
    await again.admitted
    assert.equal(kept[1]!.every, 60_000)
    assert.equal(kept[1]!.immediately, true)
    assert.equal(handle.stop(), false, 'replaced')
    assert.equal(again.stop(), true)
    assert.equal(again.stop(), false)
    await flush()
    assert.deepEqual(removed, ['hourly'])
    assert.equal(await scheduler.unschedule('daily'), true)
    assert.deepEqual(removed, ['hourly', 'daily'])

    broker.down = new Error('Connection is closed.')
    const failed = scheduler.repeat('nightly', mail, { to: 'x' }, { every: 1_000 })
    await assert.rejects(failed.admitted, (error: unknown) => {
      assert.ok(error instanceof BackendUnavailableError)
      assert.match(
        error.message,
        /^Schedule "nightly" was not kept \(unavailable\): the recording backend did not acknowledge it \(Connection is closed\.\)/,
      )
      assert.equal(error.code, 'FT_BACKEND_UNAVAILABLE')
      return true
    })
    await assert.rejects(scheduler.unschedule('nightly'), /Schedule "nightly" was not removed \(unavailable\)/)
    assert.equal(await scheduler.backendSchedules(), null, 'the broker did not answer')
    // Never awaited: no unhandledRejection (the test runner would report one).
    scheduler.repeat('unawaited', mail, { to: 'y' }, { every: 1_000 })
    await flush()
    assert.throws(() => scheduler.repeat('bad', mail, { to: new Map() } as never, { every: 1_000 }), InvalidPayloadError)
  })

  it('a task the backend hands over runs here as a tracked task, under its job id and attempt', async () => {
    const backend = new RecordingBackend()
    const scheduler = new Scheduler({ tasks: [mail], backend })
    const id = '0a1b2c3d-0000-4000-8000-000000000000'
    const task = backend.host!.run({
      id,
      name: 'mail',
      payload: '{"to":"e"}',
      priority: 'high',
      timeout: 100,
      attempt: 2,
      labels: { route: '/orders' },
      meta: { requestId: 'req-1' },
    })
    assert.equal(task.id, id)
    assert.deepEqual([task.labels, task.meta, task.priority], [{ route: '/orders' }, { requestId: 'req-1' }, 'high'])
    assert.equal(task.attempt, 2)
    assert.equal(scheduler.get(id), task)
    assert.deepEqual(await task.settled, { outcome: 'completed', value: 'sent to e' })
    assert.equal(scheduler.history()[0]!.id, id)
    assert.equal(backend.host!.knows('mail'), true)
    assert.equal(backend.host!.knows('other'), false)
    assert.throws(() => backend.host!.run({ id, name: 'other', payload: '', priority: 'normal', timeout: 1, attempt: 1 }), UnknownTaskError)
  })

  it('limits.rate: the host tells the backend; a backend that holds rate limits across processes is not second-guessed here', async () => {
    const limits = { rate: { mail: { max: 1, duration: 60_000 } } }
    const incoming = (n: number) => ({
      id: `0a1b2c3d-0000-4000-8000-00000000000${n}`,
      name: 'mail',
      payload: '{"to":"g"}',
      priority: 'normal' as const,
      timeout: 100,
      attempt: 1,
    })
    // A backend without the capability: this process holds its own window (the second start waits a minute).
    const local = new RecordingBackend()
    const held = new Scheduler({ tasks: [mail], backend: local, limits })
    assert.deepEqual(local.host!.rateLimit('mail'), { max: 1, duration: 60_000 })
    assert.equal(local.host!.rateLimit('other'), undefined)
    const [first, second] = [local.host!.run(incoming(1)), local.host!.run(incoming(2))]
    await first.settled
    await flush()
    assert.equal(second.state, 'pending')
    assert.ok(held.limits().find((l) => l.name === 'mail')!.rate!.heldForMs > 0)
    await held.close({ timeout: 0 })
    // One that holds them: both start; the starts are still counted.
    class ClusterRates extends RecordingBackend {
      readonly holdsRateLimits = true
    }
    const cluster = new ClusterRates()
    const free = new Scheduler({ tasks: [mail], backend: cluster, limits })
    const both = [cluster.host!.run(incoming(3)), cluster.host!.run(incoming(4))]
    assert.deepEqual(
      (await Promise.all(both.map((t) => t.settled))).map((s) => s.outcome),
      ['completed', 'completed'],
    )
    const rate = free.limits().find((l) => l.name === 'mail')!.rate!
    assert.deepEqual([rate.startsInWindow, rate.heldForMs], [2, 0])
  })

  it('cancel removes a waiting task through the backend; pauseBackend forwards each change; close stops intake first', async () => {
    const backend = new RecordingBackend()
    const scheduler = new Scheduler({ tasks: [mail], backend })
    const handle = scheduler.spawn(mail, { to: 'f' })
    backend.enqueued[0]!.ack.resolve()
    await handle.admitted
    assert.equal(handle.cancel('operator'), true)
    assert.deepEqual(await handle.settled, { outcome: 'cancelled', reason: 'operator' })
    scheduler.pauseBackend(true)
    scheduler.pauseBackend(true)
    scheduler.pauseBackend(false)
    assert.throws(() => scheduler.pauseBackend('yes' as never), InvalidOptionError)
    await scheduler.close({ timeout: 0 })
    assert.deepEqual(backend.calls, [`cancel ${handle.id}`, 'pause true', 'pause false', 'stop', 'close true'])
  })

  it('cancelAnywhere cancels here first, else through the backend; in memory, here only', async () => {
    const backend = new RecordingBackend()
    const scheduler = new Scheduler({ tasks: [mail], backend })
    const id = '0a1b2c3d-0000-4000-8000-000000000001'
    const here = backend.host!.run({ id, name: 'mail', payload: '{"to":"h"}', priority: 'normal', timeout: 1_000, attempt: 1 })
    assert.equal(await scheduler.cancelAnywhere(id, 'operator'), 'aborting', 'it runs here: asked to stop')
    assert.equal(here.abortReason, 'operator')
    assert.equal(await scheduler.cancelAnywhere('0a1b2c3d-0000-4000-8000-000000000002', 'operator'), 'cancelled')
    assert.deepEqual(backend.calls, ['cancel 0a1b2c3d-0000-4000-8000-000000000002'])
    const memory = new Scheduler()
    const hung = memory.spawn('hung', () => new Promise(() => {}))
    assert.equal(await memory.cancelAnywhere(hung.id), 'aborting')
    assert.equal(await memory.cancelAnywhere('999'), 'not_found')
    await assert.rejects(memory.cancelAnywhere(hung.id, 'timeout' as never), InvalidOptionError)
  })

  it('refuses a backend that is not one, naming the option', () => {
    assert.throws(
      () => new Scheduler({ backend: { kind: 'x' } as never }),
      (error: unknown) => {
        assert.ok(error instanceof InvalidOptionError)
        assert.equal(error.option, 'backend')
        return true
      },
    )
  })
})
