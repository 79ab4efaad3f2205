/**
 * The durable backend against raw BullMQ on the same Redis, in one run: jobs per second end to end
 * (first add to last completion, the worker in the same process, as a `both` deployment runs) and
 * the latency of one add (raw `queue.add`) or one admission (`await handle.admitted`), with up to
 * {@link IN_FLIGHT} adds at once, as concurrent requests would. The in-memory backend runs the same
 * named task for scale. Redis round trips per job are counted on the client.
 * Contenders alternate, each round on a fresh queue; a private redis-server on a free loopback port.
 */
import { randomUUID } from 'node:crypto'
import { Scheduler, defineTask } from '@fastify-tasks/core'
import { bullmqBackend } from '@fastify-tasks/bullmq'
import { startRedis } from '@fastify-tasks/redis-server'
import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { percentile } from './percentile.js'
import { rotate } from './rotate.js'

export const DURABLE_CONTENDERS = ['raw', 'rawSame', 'ours', 'memory'] as const
export type DurableContender = (typeof DURABLE_CONTENDERS)[number]
export const DURABLE_LABELS: Readonly<Record<DurableContender, string>> = {
  raw: 'raw BullMQ, default job options',
  rawSame: 'raw BullMQ, our job options',
  ours: '@fastify-tasks/bullmq (spawn + admitted)',
  memory: 'in memory (spawn + settled)',
}
/**
 * What the backend asks of BullMQ for every job, given to raw BullMQ in the `rawSame` row: an id made
 * by the spawner (so a handle has it before Redis answers), a priority (every level gets a number:
 * BullMQ runs jobs without one first), and bounded retention of finished jobs.
 */
export const OUR_JOB_OPTIONS = 'jobId (a UUID), priority 3, removeOnComplete { count: 1000 }'
/** Jobs per round. */
export const JOBS = 5_000
/** Adds (or spawns) awaited at once. */
export const IN_FLIGHT = 50
/** Jobs run at once by the worker (BullMQ's concurrency; ours is the backend's `concurrency`). */
export const WORKER_CONCURRENCY = 50

/** One contender's figures in one round. */
export interface DurableRound {
  readonly jobsPerSecond: number
  /** Latency of one add or admission, ms. */
  readonly p50: number
  readonly p99: number
  /** Commands sent to Redis per job, by every connection of the contender (round trips); 0 in memory. */
  readonly commandsPerJob: number
  /** CPU of this process (producer and worker) per job, µs, over the measured window. */
  readonly cpuPerJobUs: number
}

export type DurableResult = Readonly<Record<DurableContender, readonly DurableRound[]>>

/**
 * Commands sent to Redis by every ioredis client of this process: a request and its answer each, so
 * round trips (BullMQ sends no pipelines on these paths). Counted on the client: Redis's own counters
 * also count the commands a Lua script runs inside Redis, which cost no round trip.
 */
const sent = { commands: 0 }

function countCommands(): () => void {
  const prototype = Redis.prototype as unknown as { sendCommand: (...args: unknown[]) => unknown }
  const original = prototype.sendCommand
  prototype.sendCommand = function (this: unknown, ...args: unknown[]) {
    sent.commands++
    return original.apply(this, args)
  }
  return () => {
    prototype.sendCommand = original
  }
}

/** Runs `add` for jobs 0…JOBS-1, IN_FLIGHT at a time; returns each call's latency in ms. */
async function addAll(add: (n: number) => Promise<unknown>): Promise<number[]> {
  const latencies: number[] = []
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < JOBS) {
      const n = next++
      const start = performance.now()
      await add(n)
      latencies.push(performance.now() - start)
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane))
  return latencies
}

function completion(count: number): { done: Promise<void>; one: () => void } {
  let left = count
  let resolve!: () => void
  const done = new Promise<void>((r) => (resolve = r))
  return {
    done,
    one: () => {
      if (--left === 0) resolve()
    },
  }
}

const work = defineTask('work', { run: ({ n }: { n: number }) => n })

async function runRaw(port: number, queueName: string, same: boolean): Promise<Omit<DurableRound, 'commandsPerJob'>> {
  const connection = { host: '127.0.0.1', port, maxRetriesPerRequest: null }
  const queue = new Queue(queueName, { connection })
  const { done, one } = completion(JOBS)
  const worker = new Worker(queueName, async (job) => (job.data as { n: number }).n, {
    connection,
    concurrency: WORKER_CONCURRENCY,
    ...(same ? { removeOnComplete: { count: 1_000 } } : {}),
  })
  worker.on('completed', one)
  await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()])
  const cpu = process.cpuUsage()
  const start = performance.now()
  const latencies = await addAll((n) => (same ? queue.add('work', { n }, { jobId: randomUUID(), priority: 3 }) : queue.add('work', { n })))
  await done
  const seconds = (performance.now() - start) / 1_000
  const cpuPerJobUs = cpuMicros(cpu) / JOBS
  await worker.close()
  await queue.close()
  return { jobsPerSecond: JOBS / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), cpuPerJobUs }
}

/** A scheduler, on the BullMQ backend or in memory, spawning the named task and counting its runs. */
async function runScheduler(port: number | undefined, queueName: string): Promise<Omit<DurableRound, 'commandsPerJob'>> {
  const backend =
    port === undefined
      ? undefined
      : bullmqBackend({ connection: `redis://127.0.0.1:${port}`, queue: queueName, concurrency: WORKER_CONCURRENCY })
  const scheduler = new Scheduler({ tasks: [work], backend })
  const { done, one } = completion(JOBS)
  scheduler.subscribe({ settled: one })
  await backend?.ready()

  const cpu = process.cpuUsage()
  const start = performance.now()
  const latencies = await addAll((n) => scheduler.spawn(work, { n }).admitted)
  await done
  const seconds = (performance.now() - start) / 1_000
  const cpuPerJobUs = cpuMicros(cpu) / JOBS
  await scheduler.close()
  return { jobsPerSecond: JOBS / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), cpuPerJobUs }
}

/** CPU (user and system) of this process since `since`, µs. */
function cpuMicros(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since)
  return used.user + used.system
}

/** `rounds` rounds after `warmup` unrecorded ones, the contenders rotated each round. */
export async function measureDurable(rounds: number, warmup: number): Promise<DurableResult> {
  const redis = await startRedis()
  const port = redis.port
  const counter = new Redis({ host: '127.0.0.1', port })
  const result: Record<DurableContender, DurableRound[]> = { raw: [], rawSame: [], ours: [], memory: [] }
  const uncount = countCommands()
  try {
    for (let round = 0; round < warmup + rounds; round++) {
      for (const contender of rotate(DURABLE_CONTENDERS, round)) {
        const queueName = `bench-${contender}-${round}`
        const before = sent.commands
        const figures =
          contender === 'raw' || contender === 'rawSame'
            ? await runRaw(port, queueName, contender === 'rawSame')
            : await runScheduler(contender === 'ours' ? port : undefined, queueName)
        if (round >= warmup) result[contender].push({ ...figures, commandsPerJob: (sent.commands - before) / JOBS })
        await counter.flushall()
      }
    }
  } finally {
    uncount()
    counter.disconnect()
    await redis.close()
  }
  return result
}
