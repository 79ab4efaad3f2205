import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Scheduler, defineTask, type AnyTaskDefinition, type TaskContext } from '@fastify-tasks/core'
import { startRedisCluster, type RedisCluster } from '@fastify-tasks/redis-server'
import { Cluster } from 'ioredis'
import { bullmqBackend, type BullmqBackend } from '../src/index.js'
import { until } from './helpers.js'

let cluster: RedisCluster
/** The app's own cluster client: the backend duplicates it, never uses or closes it. */
let client: Cluster
const open: Scheduler[] = []

before(async () => {
  cluster = await startRedisCluster()
  client = new Cluster([...cluster.nodes], { lazyConnect: true })
})
after(async () => {
  await Promise.all(open.map((s) => s.close({ timeout: 0 })))
  client.disconnect()
  await cluster.close()
})

async function replica(
  role: 'producer' | 'consumer',
  tasks: AnyTaskDefinition[],
): Promise<{ scheduler: Scheduler; backend: BullmqBackend }> {
  const backend = bullmqBackend({ connection: client, queue: 'on-cluster', role, onError: () => {} })
  const scheduler = new Scheduler({ tasks, backend, limits: { rate: { 'rate-limited': { max: 1, duration: 60_000 } } } })
  open.push(scheduler)
  await backend.ready()
  return { scheduler, backend }
}

describe('the bullmq backend on a Redis Cluster', { timeout: 120_000 }, () => {
  it('spawns, runs, follows, cancels, schedules and rate-limits across replicas, every key of the queue under one hash tag', async () => {
    const double = defineTask('double', { run: (n: number) => n * 2 })
    const hold = defineTask('hold', {
      run: (_: undefined, { signal }: TaskContext) =>
        new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))),
    })
    const ticks: string[] = []
    const tick = defineTask('tick', { run: (_: undefined, { id }: TaskContext) => void ticks.push(id) })
    const limited = defineTask('rate-limited', { run: () => 'ok' })
    const tasks = [double, hold, tick, limited]
    const api = await replica('producer', tasks)
    const worker = await replica('consumer', tasks)

    const handle = api.scheduler.spawn(double, 21)
    await handle.admitted
    assert.deepEqual(await handle.settled, { outcome: 'completed', value: 42 })

    // A cancel crosses the cluster's pub/sub to the replica that runs the job.
    const held = api.scheduler.spawn(hold, undefined)
    await held.admitted
    await until(() => worker.scheduler.get(held.id)?.state === 'running')
    assert.equal(await api.scheduler.cancelAnywhere(held.id, 'operator'), 'aborting')
    const cancelled = await held.settled
    assert.deepEqual([cancelled.outcome, (cancelled as { reason?: string }).reason], ['cancelled', 'operator'])

    const schedule = api.scheduler.repeat('tick', tick, undefined, { every: 200, immediately: true })
    await schedule.admitted
    await until(() => ticks.length >= 2)
    assert.equal(await api.scheduler.unschedule('tick'), true)
    for (const id of ticks) assert.match(id, /^repeat:tick:\d+$/)

    // One start per minute across the cluster: the second waits in Redis.
    const first = api.scheduler.spawn(limited, undefined)
    const second = api.scheduler.spawn(limited, undefined)
    await Promise.all([first.admitted, second.admitted])
    assert.equal((await first.settled).outcome, 'completed')
    await until(async () => (await api.backend.jobCounts()).delayed === 1)
    assert.equal(second.state, 'pending')

    // Every key the queue wrote is in the slot of its hash tag.
    const inspect = new Cluster([...cluster.nodes])
    const keys: string[] = []
    try {
      await new Promise((resolve, reject) => inspect.once('ready', resolve).once('error', reject))
      for (const node of inspect.nodes('master')) keys.push(...(await node.keys('*')))
    } finally {
      inspect.disconnect()
    }
    const ours = keys.filter((key) => key.includes('on-cluster'))
    assert.ok(ours.length > 5, ours.join(', '))
    // Under the default hash tag: one slot (BullMQ's scripts, which touch several keys, would have
    // failed with CROSSSLOT otherwise).
    for (const key of ours) assert.ok(key.startsWith('{bull}:on-cluster:'), key)
  })
})
