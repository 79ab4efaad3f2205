import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { Scheduler, defineTask } from '@fastify-tasks/core'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { bullmqBackend } from '../src/index.js'
import { startRedis, type RedisServer } from '@fastify-tasks/redis-server'

const REPLICA = fileURLToPath(new URL('./fixtures/replica.ts', import.meta.url))
const JOBS = 200

let redis: RedisServer
const children: ChildProcess[] = []
before(async () => {
  redis = await startRedis()
})
after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  await redis.close()
})

/** Starts a worker replica; resolves once it is consuming (at most 20 s). */
async function startReplica(name: string, queue: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', REPLICA], {
    env: { ...process.env, REDIS_URL: redis.url, QUEUE: queue, REPLICA: name },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  await new Promise<void>((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => reject(new Error(`replica ${name} not ready within 20 s:\n${output}`)), 20_000)
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes('ready')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`replica ${name} exited with ${code}:\n${output}`))
    })
  })
  return child
}

async function until(condition: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  for (let waited = 0; waited < ms; waited += 50) {
    if (await condition()) return
    await sleep(50)
  }
  throw new Error(`${what}: not within ${ms} ms`)
}

describe('a crash', { timeout: 120_000 }, () => {
  it('SIGKILL of one of two worker replicas mid-load: every admitted job completes on the other', async (t) => {
    const queue = `crash-${process.pid}`
    const recorder = new Redis(redis.url)
    const work = defineTask('work', { run: () => undefined })
    const backend = bullmqBackend({ connection: redis.url, queue, role: 'producer', onError: () => {} })
    const producer = new Scheduler({ tasks: [work], backend })
    const q = new Queue(queue, { connection: { host: '127.0.0.1', port: redis.port } })
    try {
      await backend.ready()
      const a = await startReplica('a', queue)
      await startReplica('b', queue)
      const handles = Array.from({ length: JOBS }, (_, n) => producer.spawn(work, { n }))
      // "Admitted" is acknowledged by Redis: from there, nothing may be lost.
      await Promise.all(handles.map((handle) => handle.admitted))
      await until(
        async () => (await recorder.lrange(`${queue}:runs`, 0, -1)).filter((run) => run.endsWith(' a')).length >= 8,
        20_000,
        'replica a runs jobs',
      )
      a.kill('SIGKILL')
      const doneAtKill = await recorder.scard(`${queue}:done`)
      // Done in BullMQ's eyes: the run records itself before its job is marked completed.
      await until(async () => (await q.getJobCounts('completed'))['completed'] === JOBS, 60_000, 'every job completed')
      const counts = await q.getJobCounts('completed', 'failed', 'active', 'wait', 'delayed', 'prioritized')
      assert.deepEqual(counts, { completed: JOBS, failed: 0, active: 0, wait: 0, delayed: 0, prioritized: 0 })
      const runs = await recorder.lrange(`${queue}:runs`, 0, -1)
      const ids = new Set(handles.map((handle) => handle.id))
      assert.deepEqual(new Set(await recorder.smembers(`${queue}:done`)), ids, 'the done set is exactly the admitted jobs')
      t.diagnostic(
        `${JOBS} jobs, ${doneAtKill} done when a was killed; ${runs.length} runs in all: ${runs.length - JOBS} ran twice ` +
          `(those a had started and not finished: the at-least-once window); ${runs.filter((r) => r.endsWith(' a')).length} runs on a`,
      )
    } finally {
      recorder.disconnect()
      await q.close()
      await producer.close({ timeout: 0 })
    }
  })
})
