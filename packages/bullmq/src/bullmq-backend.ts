import {
  systemClock,
  type BackendCancel,
  type BackendHost,
  type BackendSchedule,
  type CancelReason,
  type OutgoingSchedule,
  type OutgoingTask,
  type Settlement,
  type TaskBackend,
} from '@fastify-tasks/core'
import { Queue, type Worker } from 'bullmq'
import type { Cluster } from 'ioredis'
import { BACKOFF_TYPE, CANCEL_REASONS, Consumer } from './consumer.js'
import { bullPriority, jobData } from './job-data.js'
import { repeatOptions, scheduleTemplate, toBackendSchedule } from './job-schedules.js'
import {
  isCluster,
  resolveBackendOptions,
  type BullmqBackendOptions,
  type RedisClient,
  type ResolvedBackendOptions,
  type Role,
} from './options.js'
import { RateGate } from './rate-gate.js'
import { Watcher } from './watcher.js'

/**
 * The durable backend on BullMQ: pass it as the `backend` option of fastify-tasks (or of a
 * `Scheduler`). Every named task goes through one BullMQ queue; this process adds jobs to it
 * (roles `both`, `producer`) and runs them with a BullMQ worker (roles `both`, `consumer`).
 *
 * ```ts
 * await app.register(fastifyTasks, { tasks: [sendMail], backend: bullmqBackend({ connection: process.env.REDIS_URL! }) })
 * ```
 */
export function bullmqBackend(options: BullmqBackendOptions): BullmqBackend {
  return new BullmqBackend(options)
}

/** See {@link bullmqBackend}. */
export class BullmqBackend implements TaskBackend {
  readonly kind = 'bullmq'
  /** `limits.rate` holds across every replica: counted in Redis before a job runs. */
  readonly holdsRateLimits = true
  readonly role: Role
  readonly #options: ResolvedBackendOptions
  readonly #report: (error: Error) => void
  /** Our own connections (the user's client is only duplicated): closed by `close`. */
  readonly #clients: RedisClient[] = []
  readonly #producer: RedisClient
  readonly #queue: Queue
  #consumer: Consumer | undefined
  #watcher: Watcher | undefined
  #attached = false
  #closed = false
  /** Where cancels of running jobs are published, for the replica that runs them. */
  readonly #cancelChannel: string

  constructor(options: BullmqBackendOptions) {
    const o = resolveBackendOptions(options)
    this.#options = o
    this.role = o.role
    this.#cancelChannel = `${o.prefix}:${o.queue}:fastify-tasks:cancel`
    this.#report = reporter(o.onError, () => this.#closed)
    // Spawns fail fast: one try, and a bounded wait for Redis's answer (`commandTimeout` counts from
    // the call, so it bounds a command queued while disconnected too). The connection reconnects on its own.
    this.#producer = this.#connect({ maxRetriesPerRequest: 1, commandTimeout: o.admissionTimeout })
    // Neither waiting for the connection nor checking Redis's version at start: BullMQ would wait
    // forever for a Redis that is down, or keep failing after it came back.
    this.#queue = new Queue(o.queue, { connection: this.#producer, prefix: o.prefix, skipWaitingForReady: true, skipVersionCheck: true })
    this.#queue.on('error', (error) => this.#report(error))
  }

  attach(host: BackendHost): void {
    if (this.#attached) throw new Error('This bullmq backend is already attached to a scheduler: make one per scheduler')
    this.#attached = true
    if (this.role !== 'producer') {
      // A worker's connection must wait for Redis as long as it takes (BullMQ requires it).
      // Rate limits are counted on the add connection: one try, bounded by `admissionTimeout`.
      const rates = new RateGate(this.#producer, `${this.#options.prefix}:${this.#options.queue}:fastify-tasks:rate:`, this.#report)
      const consumer = new Consumer(host, this.#options, this.#connect(WAITING), rates, this.#report)
      this.#consumer = consumer
      // Cancels of jobs running here, sent by other replicas (one more connection, subscribed).
      const subscriber = this.#connect(WAITING)
      subscriber.on('message', (_channel: string, message: string) => consumer.cancelFromChannel(message))
      subscriber.subscribe(this.#cancelChannel).catch((error: unknown) => this.#report(error as Error))
    }
  }

  /** Resolves once the connections are ready (for tests and start-up checks; spawning does not need it). */
  async ready(): Promise<void> {
    await this.#queue.waitUntilReady()
    await this.#consumer?.worker.waitUntilReady()
  }

  /**
   * The queue's jobs by BullMQ state, across every replica: one Redis round trip, constant time
   * (counts, never a scan). Rejects when Redis does not answer within `admissionTimeout`.
   */
  async jobCounts(): Promise<JobCounts> {
    const counts = await this.#queue.getJobCounts(...JOB_STATES)
    return Object.fromEntries(JOB_STATES.map((state) => [state, counts[state] ?? 0])) as unknown as JobCounts
  }

  connected(): boolean {
    return this.#producer.status === 'ready'
  }

  async enqueue(task: OutgoingTask): Promise<string | undefined> {
    this.#checkProducer()
    if (task.key !== undefined && task.onDuplicate === 'replace') await this.#supersede(task.key)
    const job = await this.#queue.add(task.name, jobData(task), {
      jobId: task.id,
      priority: bullPriority(task.priority),
      ...(task.delay > 0 ? { delay: task.delay } : {}),
      ...(task.attempts > 1 ? { attempts: task.attempts, backoff: { type: BACKOFF_TYPE } } : {}),
      // A key joins the live job of that key (BullMQ's deduplication, until that job completes or fails).
      ...(task.key === undefined ? {} : { deduplication: { id: task.key } }),
    })
    return job.id
  }

  /**
   * `replace`: the live job of `key`, if any, is cancelled with reason `superseded` wherever it is
   * (removed while it waits, aborted where it runs) and the key freed for the new one. Three round
   * trips more than a plain spawn, and not atomic: a spawn of the same key in between may join the
   * job being replaced, or be replaced in its turn.
   */
  async #supersede(key: string): Promise<void> {
    const live = await this.#queue.getDeduplicationJobId(key)
    if (live === null) return
    await this.cancel(live, 'superseded')
    await this.#queue.removeDeduplicationKey(key)
  }

  async cancel(id: string, reason: CancelReason): Promise<BackendCancel> {
    const running = this.#consumer?.running.get(id)
    if (running !== undefined) return running.cancel(reason) ? 'aborting' : 'not_found'
    const state = await this.#queue.getJobState(id)
    if (state === 'completed' || state === 'failed' || state === 'unknown') return 'not_found'
    // Waiting or delayed: removed (unless a worker took it meanwhile: its lock keeps it). Why, is
    // kept a day for whoever follows the job: removed, it leaves no record of its own.
    if (state !== 'active') {
      await this.#producer.set(this.#removedKey(id), reason, 'EX', REMOVED_REASON_TTL)
      if ((await this.#queue.remove(id)) === 1) return 'cancelled'
    }
    // Running on another replica: told on the cancel channel, which every consuming process listens
    // to; the one that runs it aborts it.
    let listeners = await this.#producer.publish(this.#cancelChannel, JSON.stringify({ id, reason }))
    // A Redis Cluster counts the listeners of the node that took the message only (it passes it on to
    // the others): ask every node.
    if (listeners === 0 && isCluster(this.#producer)) listeners = await listenersAcross(this.#producer, this.#cancelChannel)
    return listeners > 0 ? 'aborting' : 'not_found'
  }

  /**
   * Keeps `schedule` as a BullMQ job scheduler of the same id (upserted: every replica may call
   * `repeat` at start-up; the last one's options hold). BullMQ makes each turn's job, once, whichever
   * worker takes it; the job's id is `repeat:<schedule id>:<time>`.
   */
  async schedule(schedule: OutgoingSchedule): Promise<void> {
    this.#checkProducer()
    // One more round trip, for a cron schedule to run at once only where it is made.
    const exists = schedule.cron !== null && schedule.immediately && (await this.#queue.getJobScheduler(schedule.id)) !== undefined
    // eslint-disable-next-line no-restricted-properties -- a time for Redis, which counts in wall-clock ms
    await this.#queue.upsertJobScheduler(schedule.id, repeatOptions(schedule, Date.now(), exists), scheduleTemplate(schedule))
  }

  /** Removes the job scheduler of this id, and the turn it had made and that no worker took yet. */
  async unschedule(id: string): Promise<boolean> {
    this.#checkProducer()
    return this.#queue.removeJobScheduler(id)
  }

  /** The queue's job schedulers, at most `limit`, the soonest due first, and their count. */
  async schedules(limit: number): Promise<{ schedules: BackendSchedule[]; total: number }> {
    const [kept, total] = await Promise.all([this.#queue.getJobSchedulers(0, limit - 1, true), this.#queue.getJobSchedulersCount()])
    return { schedules: kept.map(toBackendSchedule), total }
  }

  watch(id: string): Promise<Settlement> {
    this.#watcher ??= new Watcher(this.#queue, this.#options, this.#connect(WAITING), this.#report, (removed) =>
      this.#removedReason(removed),
    )
    return this.#watcher.watch(id)
  }

  pauseConsuming(paused: boolean): void {
    this.#consumer?.pause(paused)
  }

  stopConsuming(): void {
    this.#consumer?.stop()
  }

  async close(budgetMs: number): Promise<void> {
    const startedAt = systemClock.now()
    const consumer = this.#consumer
    // Each job's last word to Redis (its result, or its return to the queue), within the budget.
    if (consumer !== undefined) await within(consumer.settled(), budgetMs)
    // The rest is letting go. BullMQ's close waits for a job its worker took as the close began (our
    // processor gives it back, no attempt used). After a Redis restart that close could wait far
    // longer than it should (seen: a whole budget, on a blocking read that outlived the disconnect
    // meant to end it), so it gets a second; then its connections are cut and its lock extender,
    // whose timer would keep the process alive, is stopped.
    const cleanup = (async () => {
      if (consumer !== undefined) {
        // Without Redis no job can be given back, and a graceful close would wait for it: forced.
        if (this.#producer.status !== 'ready') await consumer.worker.close(true)
        else if (!(await within(consumer.worker.close(), CLEANUP_WAIT))) {
          await consumer.worker.disconnect().catch(() => undefined)
          stopLockExtender(consumer.worker)
        }
      }
      // Redis unreachable: a graceful close of the rest would wait for it. What is not connected is dropped.
      if (this.#producer.status === 'ready') {
        await this.#watcher?.close()
        await this.#queue.close()
      }
      await Promise.all(
        this.#clients.map(async (client) => {
          if (client.status === 'ready') await client.quit().catch(() => undefined)
          else client.disconnect()
        }),
      )
    })()
    cleanup.catch((error: unknown) => this.#report(error as Error))
    await within(cleanup, Math.max(0, Math.min(2 * CLEANUP_WAIT, budgetMs - (systemClock.now() - startedAt))))
    this.#closed = true
    // Whatever is still waiting for Redis gives up now: the jobs this process still held are found
    // stalled by another worker (after `lockDuration`) and run again there.
    // BullMQ's own connections (the worker's and the event reader's blocking copies) included: one
    // left reconnecting would hold the process open.
    void this.#consumer?.worker.close(true).catch(() => undefined)
    if (this.#consumer !== undefined) stopLockExtender(this.#consumer.worker)
    for (const client of this.#clients) client.disconnect()
    void this.#consumer?.worker.disconnect().catch(() => undefined)
    void this.#watcher?.disconnect().catch(() => undefined)
    void this.#queue.disconnect().catch(() => undefined)
  }

  /**
   * Lost Redis after having it: fail now rather than after `admissionTimeout` (at start-up, while
   * the first connection is made, a call waits for it, within `admissionTimeout`).
   */
  #checkProducer(): void {
    const status = this.#producer.status
    if (status === 'reconnecting' || status === 'close' || status === 'end') throw new Error(`Redis connection is ${status}`)
  }

  #removedKey(id: string): string {
    return `${this.#options.prefix}:${this.#options.queue}:fastify-tasks:removed:${id}`
  }

  /** Why the job `id` was removed by a cancel, if it was (and less than a day ago). */
  async #removedReason(id: string): Promise<CancelReason | undefined> {
    const reason = await this.#producer.get(this.#removedKey(id))
    return reason === null || !CANCEL_REASONS.has(reason) ? undefined : (reason as CancelReason)
  }

  #connect(overrides: Parameters<ResolvedBackendOptions['connect']>[0]): RedisClient {
    const client = this.#options.connect(overrides)
    client.on('error', (error: Error) => this.#report(error))
    this.#clients.push(client)
    return client
  }
}

/** The subscribers of `channel` on every node of a Redis Cluster. */
async function listenersAcross(cluster: Cluster, channel: string): Promise<number> {
  const counts = await Promise.all(
    cluster.nodes('all').map(async (node) => {
      const reply = (await node.pubsub('NUMSUB', channel)) as [string, number]
      return Number(reply[1]) || 0
    }),
  )
  return counts.reduce((sum, count) => sum + count, 0)
}

/** Seconds the reason of a job removed by a cancel is kept, for whoever follows it. */
const REMOVED_REASON_TTL = 86_400

/** The states {@link BullmqBackend.jobCounts} counts. */
const JOB_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'] as const

/** Jobs of the queue by BullMQ state (`waiting` and `prioritized` wait for a worker; `delayed` for their time or their next attempt). */
export type JobCounts = Readonly<Record<(typeof JOB_STATES)[number], number>>

/**
 * A connection that waits for Redis as long as it takes, for BullMQ's worker and event reader (both
 * refuse another `maxRetriesPerRequest`); without a `commandTimeout`, which would cut their blocking
 * reads short (a worker given one takes no job at all).
 */
const WAITING = { maxRetriesPerRequest: null, commandTimeout: undefined } as const

/** How long BullMQ's worker is given to close on its own at the end of a close, in ms (the rest as long again). */
const CLEANUP_WAIT = 1_000

/**
 * Stops a worker whose close hangs from renewing job locks. BullMQ stops its lock extender only at the
 * end of a close; one that never ends would re-arm that timer for ever and keep the process alive.
 * Reaches a protected member of BullMQ's Worker (present in BullMQ 5 and 6): if it is missing,
 * nothing is done.
 */
function stopLockExtender(worker: Worker): void {
  const manager = (worker as unknown as { lockManager?: { close?: () => Promise<void> } }).lockManager
  void manager?.close?.().catch(() => undefined)
}

/** Waits for `promise` at most `ms`: `true` if it settled by then. */
function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timer = systemClock.setTimeout(() => resolve(false), ms, true)
    const done = (): void => {
      systemClock.clearTimeout(timer)
      resolve(true)
    }
    promise.then(done, done)
  })
}

/** Where connection errors go: the user's `onError`, else a process warning at most every 10 s (Redis down repeats them). */
function reporter(onError: ((error: Error) => void) | undefined, closed: () => boolean): (error: Error) => void {
  if (onError !== undefined) {
    return (error) => {
      try {
        onError(error)
      } catch {
        // A failing error handler must not break the backend.
      }
    }
  }
  let last = -Infinity
  let suppressed = 0
  return (error) => {
    if (closed()) return
    const now = systemClock.now()
    if (now - last < 10_000) {
      suppressed++
      return
    }
    last = now
    const more = suppressed === 0 ? '' : ` (${suppressed} more since the last report)`
    suppressed = 0
    process.emitWarning(`${error?.message ?? String(error)}${more}`, { code: 'FASTIFY_TASKS_BULLMQ' })
  }
}

export type { BullmqBackendOptions, Role }
