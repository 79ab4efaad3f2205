import { systemClock, type CancelReason, type Settlement } from '@fastify-tasks/core'
import { QueueEvents, type Queue } from 'bullmq'
import type { RedisClient } from './options.js'
import type { ResolvedBackendOptions } from './options.js'
import { settlementOf } from './outcomes.js'

/** How often the jobs still followed are looked up in Redis, in case an event was missed, ms. */
const POLL_MS = 1_000

/**
 * Follows jobs to their end for `handle.settled`, on one subscription per process (a QueueEvents
 * reader: one more Redis connection, opened on the first `settled` read and blocking on the
 * queue's event stream). A job that finished before the subscription started is read from Redis.
 */
export class Watcher {
  readonly #events: QueueEvents
  readonly #queue: Queue
  readonly #waiting = new Map<string, ((settlement: Settlement) => void)[]>()
  readonly #ready: Promise<void>
  #pollTimer: unknown = undefined
  #closed = false

  readonly #removedReason: (id: string) => Promise<CancelReason | undefined>

  constructor(
    queue: Queue,
    options: ResolvedBackendOptions,
    connection: RedisClient,
    report: (error: Error) => void,
    removedReason: (id: string) => Promise<CancelReason | undefined>,
  ) {
    this.#queue = queue
    this.#removedReason = removedReason
    this.#events = new QueueEvents(options.queue, { connection, prefix: options.prefix })
    this.#events.on('error', (error) => report(error))
    this.#events.on('completed', ({ jobId, returnvalue }) => this.#settle(jobId, settlementOf({ completed: true, value: returnvalue })))
    this.#events.on('failed', ({ jobId, failedReason }) => this.#settle(jobId, settlementOf({ completed: false, failedReason })))
    // Removed while waiting (a cancel, or by hand): ended without running. A handle that cancelled it knows its reason first.
    this.#events.on('removed', ({ jobId }) => void this.#removed(jobId))
    this.#ready = this.#events.waitUntilReady().then(
      () => undefined,
      (error: unknown) => report(error as Error),
    )
  }

  watch(id: string): Promise<Settlement> {
    return new Promise<Settlement>((resolve) => {
      const list = this.#waiting.get(id)
      if (list === undefined) this.#waiting.set(id, [resolve])
      else list.push(resolve)
      // Once subscribed, whatever finished before is in Redis already.
      void this.#ready.then(() => this.#lookUp(id))
      this.#poll()
    })
  }

  /**
   * Looks up every job still followed, every second, while there are some: an event can be missed
   * (one sent between the subscription's start and its first read, or while Redis was away), and a
   * follower must not wait for ever. The timer holds the process open only while someone waits.
   */
  #poll(): void {
    if (this.#pollTimer !== undefined || this.#closed) return
    this.#pollTimer = systemClock.setTimeout(
      () => {
        this.#pollTimer = undefined
        if (this.#waiting.size === 0 || this.#closed) return
        void Promise.all([...this.#waiting.keys()].map((id) => this.#lookUp(id))).then(() => {
          if (this.#waiting.size > 0) this.#poll()
        })
      },
      POLL_MS,
      true,
    )
  }

  async close(): Promise<void> {
    this.#stop()
    await this.#events.close()
  }

  /** Drops its connection now, whatever Redis does (the end of a close that ran out of time). */
  async disconnect(): Promise<void> {
    this.#stop()
    await this.#events.disconnect()
  }

  #stop(): void {
    this.#closed = true
    if (this.#pollTimer !== undefined) systemClock.clearTimeout(this.#pollTimer)
    this.#pollTimer = undefined
  }

  async #lookUp(id: string): Promise<void> {
    try {
      // The state first, then the job: a job read first and finished in between would show its state
      // but not yet its result. A finished job's result does not change.
      const state = await this.#queue.getJobState(id)
      if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return
      const job = state === 'unknown' ? undefined : await this.#queue.getJob(id)
      if (job === undefined || job === null) {
        const reason = await this.#removedReason(id)
        if (reason !== undefined) {
          this.#settle(id, { outcome: 'cancelled', reason })
          return
        }
        this.#settle(id, {
          outcome: 'failed',
          error: new Error(`Job ${id} is no longer in Redis (removed by its retention or by hand): its outcome is unknown`),
        })
        return
      }
      if (state === 'completed') this.#settle(id, settlementOf({ completed: true, value: job.returnvalue }))
      else this.#settle(id, settlementOf({ completed: false, failedReason: job.failedReason }))
    } catch {
      // Redis is away: the events will tell when it is back.
    }
  }

  /** Removed while it waited: cancelled, for the reason its canceller left (else by hand: `caller`). */
  async #removed(id: string): Promise<void> {
    if (!this.#waiting.has(id)) return
    let reason: CancelReason | undefined
    try {
      reason = await this.#removedReason(id)
    } catch {
      reason = undefined
    }
    this.#settle(id, { outcome: 'cancelled', reason: reason ?? 'caller' })
  }

  #settle(id: string, settlement: Settlement): void {
    const list = this.#waiting.get(id)
    if (list === undefined) return
    this.#waiting.delete(id)
    for (const resolve of list) resolve(settlement)
  }
}
