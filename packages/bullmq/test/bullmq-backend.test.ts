import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  BackendUnavailableError,
  NotDurableError,
  Scheduler,
  defineTask,
  type AnyTaskDefinition,
  type SchedulerOptions,
  type TaskContext,
} from '@fastify-tasks/core'
import { Queue } from 'bullmq'
import { Redis as Redis6 } from 'ioredis6'
import { bullmqBackend, type BullmqBackend, type BullmqBackendOptions } from '../src/index.js'
import { startRedis, type RedisServer } from '@fastify-tasks/redis-server'
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

/** A scheduler on the bullmq backend, on the test's own queue; closed after the suite if the test does not. */
async function scheduler(
  queue: string,
  tasks: AnyTaskDefinition[],
  backend: Partial<BullmqBackendOptions> = {},
  options: SchedulerOptions = {},
): Promise<{ scheduler: Scheduler; backend: BullmqBackend }> {
  const b = bullmqBackend({ connection: redis.url, queue, onError: () => {}, ...backend })
  const s = new Scheduler({ tasks, backend: b, ...options })
  open.push(s)
  await b.ready()
  return { scheduler: s, backend: b }
}

const uniqueQueue = (): string => `test-${process.pid}-${++queues}`

describe('the bullmq backend', { timeout: 120_000 }, () => {
  it('a task spawned on an API replica runs on a worker replica, and the spawner follows it to its result', async () => {
    const queue = uniqueQueue()
    const seen: { id: string; attempt: number; payload: unknown }[] = []
    const double = defineTask('double', {
      run: (payload: { n: number }, { id, attempt }: TaskContext) => {
        seen.push({ id, attempt, payload })
        return { doubled: payload.n * 2 }
      },
    })
    const api = await scheduler(queue, [double], { role: 'producer' })
    const worker = await scheduler(queue, [double], { role: 'consumer' })

    const handle = api.scheduler.spawn(double, { n: 21 })
    await handle.admitted
    assert.equal(api.scheduler.summary().backend.enqueued, 1)
    assert.deepEqual(await handle.settled, { outcome: 'completed', value: { doubled: 42 } })
    assert.equal(handle.state, 'completed')
    assert.deepEqual(seen, [{ id: handle.id, attempt: 1, payload: { n: 21 } }], 'ran once, on the worker, with the job id as its id')
    assert.equal(api.scheduler.summary().spawned, 0, 'the API replica ran nothing')
    assert.equal(worker.scheduler.summary().outcomes.completed, 1, 'the worker counts the run')
  })

  it("an app's own ioredis client of another version (ioredis 6) is duplicated and used, never read as options", async () => {
    const client = new Redis6(redis.url, { lazyConnect: true })
    try {
      const addOne = defineTask('add-one', { run: (n: number) => n + 1 })
      const b = bullmqBackend({ connection: client as never, queue: uniqueQueue(), onError: () => {} })
      const s = new Scheduler({ tasks: [addOne], backend: b })
      open.push(s)
      await b.ready()
      const handle = s.spawn(addOne, 41)
      await handle.admitted
      assert.deepEqual(await handle.settled, { outcome: 'completed', value: 42 })
      assert.equal(client.status, 'wait', 'the client itself is not used')
    } finally {
      client.disconnect()
    }
  })

  it('refuses closures with an error naming the task', async () => {
    const noop = defineTask('noop', { run: () => undefined })
    const { scheduler: s } = await scheduler(uniqueQueue(), [noop], { role: 'producer' })
    assert.throws(
      () => s.spawn('warm-cache', () => undefined),
      (error: unknown) => {
        assert.ok(error instanceof NotDurableError)
        assert.equal(error.code, 'FT_NOT_DURABLE')
        assert.match(error.message, /"warm-cache".*bullmq backend.*defineTask/)
        return true
      },
    )
  })

  it("'replace' cancels the live job of its key (superseded), waiting or running on another replica, and the new one runs", async () => {
    const queue = uniqueQueue()
    const runs: string[] = []
    const sync = defineTask('sync', {
      retries: 1,
      run: (version: number, { signal }: TaskContext) => {
        runs.push(`v${version}`)
        if (version === 3) return `synced v${version}`
        return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)))
      },
    })
    const api = await scheduler(queue, [sync], { role: 'producer' })
    // Waiting (delayed): removed.
    const waiting = api.scheduler.spawn(sync, 1, { key: 'partner', delay: 60_000 })
    await waiting.admitted
    const running = api.scheduler.spawn(sync, 2, { key: 'partner', onDuplicate: 'replace' })
    await running.admitted
    assert.notEqual(running.id, waiting.id)
    assert.deepEqual(await waiting.settled, { outcome: 'cancelled', reason: 'superseded' })
    // Running on a worker replica: aborted there, not retried.
    const worker = await scheduler(queue, [sync], { role: 'consumer' })
    await until(() => worker.scheduler.get(running.id)?.state === 'running')
    const latest = api.scheduler.spawn(sync, 3, { key: 'partner', onDuplicate: 'replace' })
    await latest.admitted
    const replaced = await running.settled
    assert.deepEqual(
      { outcome: replaced.outcome, reason: (replaced as { reason?: string }).reason },
      { outcome: 'cancelled', reason: 'superseded' },
    )
    assert.deepEqual(await latest.settled, { outcome: 'completed', value: 'synced v3' })
    assert.deepEqual(runs, ['v2', 'v3'], 'the waiting one never ran; the replaced one was not retried')
  })

  it('a key joins the live job of that key, across replicas; once it ended, a new spawn runs again', async () => {
    const queue = uniqueQueue()
    const runs: string[] = []
    const refresh = defineTask('refresh', {
      run: (_: undefined, { id }: TaskContext) => {
        runs.push(id)
      },
    })
    const a = await scheduler(queue, [refresh], { role: 'producer' })
    const b = await scheduler(queue, [refresh], { role: 'producer' })
    const first = a.scheduler.spawn(refresh, undefined, { key: 'cache:catalog' })
    const second = b.scheduler.spawn(refresh, undefined, { key: 'cache:catalog' })
    await Promise.all([first.admitted, second.admitted])
    assert.equal(second.id, first.id, 'joined: one job')
    await scheduler(queue, [refresh], { role: 'consumer' })
    await first.settled
    assert.deepEqual(await second.settled, { outcome: 'completed', value: null })
    const third = a.scheduler.spawn(refresh, undefined, { key: 'cache:catalog' })
    await third.settled
    assert.notEqual(third.id, first.id)
    assert.deepEqual(runs, [first.id, third.id])
  })

  it('a deadline aborts the run, ends it timed_out and is not retried, even with retries left', async () => {
    const queue = uniqueQueue()
    let runs = 0
    const stubborn = defineTask('stubborn', {
      timeout: 100,
      retries: 3,
      backoff: { type: 'fixed', delay: 10 },
      run: async (_: undefined, { signal }: TaskContext) => {
        runs++
        await new Promise((resolve) => signal.addEventListener('abort', resolve))
        throw signal.reason
      },
    })
    const { scheduler: s } = await scheduler(queue, [stubborn])
    const handle = s.spawn(stubborn, undefined)
    const settlement = await handle.settled
    assert.equal(settlement.outcome, 'timed_out')
    assert.equal(runs, 1, 'not retried')
    const q = new Queue(queue, { connection: { host: '127.0.0.1', port: redis.port } })
    try {
      const job = await q.getJob(handle.id)
      assert.equal(await job!.getState(), 'failed', 'BullMQ records it as failed')
      assert.match(job!.failedReason, /exceeded its deadline/)
    } finally {
      await q.close()
    }
  })

  it('retries a failing task with its backoff; the run sees its attempt', async () => {
    const attempts: number[] = []
    const flaky = defineTask('flaky', {
      retries: 2,
      backoff: { type: 'fixed', delay: 20 },
      run: (_: undefined, { attempt }: TaskContext) => {
        attempts.push(attempt)
        if (attempt < 3) throw new Error(`attempt ${attempt} failed`)
        return 'third time lucky'
      },
    })
    const { scheduler: s } = await scheduler(uniqueQueue(), [flaky])
    assert.deepEqual(await s.spawn(flaky, undefined).settled, { outcome: 'completed', value: 'third time lucky' })
    assert.deepEqual(attempts, [1, 2, 3])
  })

  it('a failure after the last attempt is the outcome the spawner sees', async () => {
    const doomed = defineTask('doomed', {
      run: () => {
        throw new Error('nope')
      },
    })
    const { scheduler: s } = await scheduler(uniqueQueue(), [doomed])
    const settlement = await s.spawn(doomed, undefined).settled
    assert.equal(settlement.outcome, 'failed')
    assert.match((settlement as { error: Error }).error.message, /nope/)
  })

  it('cancelling a handle removes its job while it waits: settled says cancelled, and nothing runs it', async () => {
    const queue = uniqueQueue()
    let ran = false
    const later = defineTask('later', {
      run: () => {
        ran = true
      },
    })
    const api = await scheduler(queue, [later], { role: 'producer' })
    const handle = api.scheduler.spawn(later, undefined, { delay: 60_000 })
    await handle.admitted
    assert.equal(handle.cancel('operator'), true)
    assert.deepEqual(await handle.settled, { outcome: 'cancelled', reason: 'operator' })
    assert.equal(handle.cancel(), false, 'ended: nothing left to cancel')
    const q = new Queue(queue, { connection: { host: '127.0.0.1', port: redis.port } })
    try {
      assert.equal(await q.getJob(handle.id), undefined, 'gone from Redis')
    } finally {
      await q.close()
    }
    await scheduler(queue, [later], { role: 'consumer' })
    await sleep(100)
    assert.equal(ran, false)
  })

  it('a delayed spawn waits in Redis, then runs', async () => {
    const queue = uniqueQueue()
    const soon = defineTask('soon', { run: () => 'ran' })
    const { scheduler: s, backend } = await scheduler(queue, [soon])
    const handle = s.spawn(soon, undefined, { delay: 300 })
    await handle.admitted
    assert.deepEqual(await backend.jobCounts(), { waiting: 0, prioritized: 0, delayed: 1, active: 0, completed: 0, failed: 0 })
    const q = new Queue(queue, { connection: { host: '127.0.0.1', port: redis.port } })
    try {
      assert.equal(await (await q.getJob(handle.id))!.getState(), 'delayed')
    } finally {
      await q.close()
    }
    assert.deepEqual(await handle.settled, { outcome: 'completed', value: 'ran' })
  })

  it('a job cancelled through the scheduler that runs it ends cancelled, not retried', async () => {
    const queue = uniqueQueue()
    const waits = defineTask('waits', {
      retries: 2,
      run: (_: undefined, { signal }: TaskContext) =>
        new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))),
    })
    const { scheduler: s } = await scheduler(queue, [waits])
    const handle = s.spawn(waits, undefined)
    await until(() => s.get(handle.id)?.state === 'running')
    assert.equal(s.cancel(handle.id, 'operator'), true, 'found by its job id')
    const settlement = await handle.settled
    assert.deepEqual(
      { outcome: settlement.outcome, reason: (settlement as { reason?: string }).reason },
      { outcome: 'cancelled', reason: 'operator' },
    )
  })

  it('a handle cancels its job where it runs, on another replica: the job ends cancelled, not retried', async () => {
    const queue = uniqueQueue()
    const seen: string[] = []
    const waits = defineTask('waits', {
      retries: 2,
      run: (_: undefined, { signal }: TaskContext) =>
        new Promise((_resolve, reject) => {
          seen.push('started')
          signal.addEventListener('abort', () => reject(signal.reason as Error))
        }),
    })
    const api = await scheduler(queue, [waits], { role: 'producer' })
    const worker = await scheduler(queue, [waits], { role: 'consumer' })
    const handle = api.scheduler.spawn(waits, undefined)
    await until(() => worker.scheduler.get(handle.id)?.state === 'running')
    assert.equal(api.scheduler.get(handle.id), undefined, 'not running on the API replica')
    assert.equal(await api.scheduler.cancelAnywhere(handle.id, 'operator'), 'aborting')
    const settlement = await handle.settled
    assert.deepEqual(
      { outcome: settlement.outcome, reason: (settlement as { reason?: string }).reason },
      { outcome: 'cancelled', reason: 'operator' },
    )
    assert.deepEqual(seen, ['started'], 'not retried')
    assert.equal(await api.scheduler.cancelAnywhere(handle.id), 'not_found', 'ended: nothing left to cancel')
  })

  it('limits.rate holds across replicas: two workers together start one job per window, the others wait without using an attempt', async () => {
    const queue = uniqueQueue()
    const starts: { at: number; attempt: number }[] = []
    const sms = defineTask('send-sms', {
      run: (_: undefined, { attempt }: TaskContext) => void starts.push({ at: Date.now(), attempt }),
    })
    const limits = { rate: { 'send-sms': { max: 1, duration: 1_000 } } }
    const a = await scheduler(queue, [sms], { role: 'consumer' }, { limits })
    const b = await scheduler(queue, [sms], { role: 'consumer' }, { limits })
    const handles = Array.from({ length: 4 }, () => a.scheduler.spawn(sms, undefined))
    await Promise.all(handles.map((h) => h.admitted))
    const outcomes = await Promise.all(handles.map(async (h) => (await h.settled).outcome))
    assert.deepEqual(outcomes, ['completed', 'completed', 'completed', 'completed'])
    assert.deepEqual(
      starts.map((s) => s.attempt),
      [1, 1, 1, 1],
      'given back, not retried',
    )
    const at = starts.map((s) => s.at).sort((x, y) => x - y)
    // One start per 1 s window across both workers: consecutive starts are a window apart (less the
    // few ms between Redis counting a start and the run beginning; a slow machine only widens them).
    for (let i = 1; i < at.length; i++) assert.ok(at[i]! - at[i - 1]! >= 700, `starts ${at[i]! - at[i - 1]!} ms apart: ${at.join(', ')}`)
    const ran = [a, b].map((r) => r.scheduler.summary().outcomes.completed)
    assert.equal(ran[0]! + ran[1]!, 4)
    const [limit] = a.scheduler.limits().filter((l) => l.name === 'send-sms')
    assert.equal(limit?.rate?.heldForMs ?? 0, 0, 'the process holds nothing back itself: Redis does')
  })

  it('a paused consumer (overloaded) takes no job until resumed', async () => {
    const queue = uniqueQueue()
    const ran: string[] = []
    const quick = defineTask('quick', {
      run: (_: undefined, { id }: TaskContext) => {
        ran.push(id)
      },
    })
    const { scheduler: s } = await scheduler(queue, [quick])
    s.pauseBackend(true)
    const handle = s.spawn(quick, undefined)
    await handle.admitted
    await sleep(300)
    assert.deepEqual(ran, [], 'the job waits in Redis while this process is paused')
    const q = new Queue(queue, { connection: { host: '127.0.0.1', port: redis.port } })
    try {
      assert.notEqual(await (await q.getJob(handle.id))!.getState(), 'completed')
    } finally {
      await q.close()
    }
    s.pauseBackend(false)
    assert.deepEqual(await handle.settled, { outcome: 'completed', value: null })
    assert.deepEqual(ran, [handle.id])
  })

  it('a job whose name this worker does not know waits for one that does (a rolling deploy), never failed', async () => {
    const queue = uniqueQueue()
    const newTask = defineTask('new-task', { run: () => 'ran on the new worker' })
    const api = await scheduler(queue, [newTask], { role: 'producer' })
    const errors: Error[] = []
    await scheduler(queue, [], { role: 'consumer', unknownTaskDelay: 50, onError: (error) => errors.push(error) })
    const handle = api.scheduler.spawn(newTask, undefined)
    await handle.admitted
    await until(() => errors.some((error) => /No definition of task "new-task"/.test(error.message)))
    await scheduler(queue, [newTask], { role: 'consumer' })
    assert.deepEqual(await handle.settled, { outcome: 'completed', value: 'ran on the new worker' })
  })

  it('a job interrupted by a shutdown is given back without using an attempt, and completes on another worker', async () => {
    const queue = uniqueQueue()
    const starts: { attempt: number; worker: string }[] = []
    const onA = defineTask('long', {
      run: (_: undefined, { signal, attempt }: TaskContext) => {
        starts.push({ attempt, worker: 'a' })
        return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)))
      },
    })
    const onB = defineTask('long', {
      run: (_: undefined, { attempt }: TaskContext) => {
        starts.push({ attempt, worker: 'b' })
        return 'done on b'
      },
    })
    const a = await scheduler(queue, [onA], {}, { abortGrace: 1_000 })
    const handle = a.scheduler.spawn(onA, undefined)
    await until(() => starts.length === 1)
    // Twice in a row, as two deploys would: BullMQ's default maxStalledCount (1) would fail it the second time.
    const report = await a.scheduler.close({ timeout: 0 })
    assert.equal(report.abandoned.length, 1, 'the drain reports the job it left')
    const a2 = await scheduler(queue, [onA], {}, { abortGrace: 1_000 })
    await until(() => starts.length === 2)
    await a2.scheduler.close({ timeout: 0 })
    const b = await scheduler(queue, [onB])
    const q = new Queue(queue, { connection: { host: '127.0.0.1', port: redis.port } })
    try {
      await until(async () => (await (await q.getJob(handle.id))?.getState()) === 'completed')
      const job = await q.getJob(handle.id)
      assert.equal(job!.returnvalue, 'done on b')
      assert.equal(job!.attemptsMade, 1, 'only the run that completed counts as an attempt: the shutdowns used none')
    } finally {
      await q.close()
    }
    assert.deepEqual(
      starts.map((s) => `${s.worker}${s.attempt}`),
      ['a1', 'a1', 'b1'],
    )
    await b.scheduler.close()
  })
})

describe('the bullmq backend without Redis', { timeout: 60_000 }, () => {
  let own: RedisServer
  before(async () => {
    own = await startRedis()
  })
  after(async () => {
    await own.close()
  })

  it('a spawn while Redis is down fails fast: admitted rejects with BackendUnavailableError (503), no unhandled rejection', async () => {
    const noop = defineTask('noop', { run: () => undefined })
    const b = bullmqBackend({ connection: own.url, queue: uniqueQueue(), role: 'producer', admissionTimeout: 500, onError: () => {} })
    const s = new Scheduler({ tasks: [noop], backend: b })
    await b.ready()
    await own.stop()
    try {
      const rejected: string[] = []
      s.subscribe({ rejected: (spawn) => rejected.push(spawn.error.reason) })
      const unawaited = s.spawn(noop, undefined)
      const handle = s.spawn(noop, undefined)
      await assert.rejects(handle.admitted, (error: unknown) => {
        assert.ok(error instanceof BackendUnavailableError)
        assert.equal(error.code, 'FT_BACKEND_UNAVAILABLE')
        assert.equal(error.reason, 'unavailable')
        assert.equal(error.retryAfter, 1)
        return true
      })
      assert.deepEqual(await handle.settled, { outcome: 'dropped', reason: 'unavailable' })
      await unawaited.settled
      assert.equal(unawaited.state, 'dropped')
      assert.deepEqual(rejected, ['unavailable', 'unavailable'])
      assert.equal(s.summary().rejected.unavailable, 2)
    } finally {
      await own.start()
      await s.close({ timeout: 0 })
    }
  })

  it('the drain ends within drainTimeout + abortGrace with Redis gone, and reports the job it left', async (t) => {
    const queue = uniqueQueue()
    let started = 0
    const deaf = defineTask('deaf', {
      timeout: Infinity,
      run: () => {
        started++
        return new Promise(() => {})
      },
    })
    const b = bullmqBackend({ connection: own.url, queue, onError: () => {} })
    const s = new Scheduler({ tasks: [deaf], backend: b, abortGrace: 200 })
    await b.ready()
    await s.spawn(deaf, undefined).admitted
    await until(() => started === 1)
    await own.stop()
    try {
      const report = await s.close({ timeout: 200 })
      t.diagnostic(`close took ${Math.round(report.durationMs)} ms (drainTimeout 200 + abortGrace 200)`)
      assert.deepEqual(
        report.abandoned.map((group) => group.name),
        ['deaf'],
      )
    } finally {
      await own.start()
    }
  })
})
