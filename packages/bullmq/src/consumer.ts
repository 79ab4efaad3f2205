import {
  ClosingError,
  InvalidPayloadError,
  InvalidResultError,
  type BackendHost,
  type CancelReason,
  type Settlement,
  type TaskHandle,
} from '@fastify-tasks/core'
import { DelayedError, UnrecoverableError, Worker, type Job, type MinimalJob } from 'bullmq'
import type { RedisClient } from './options.js'
import { fromBullPriority, readJobData } from './job-data.js'
import type { ResolvedBackendOptions } from './options.js'
import { givenUpReason } from './outcomes.js'
import type { RateGate } from './rate-gate.js'

/** The reasons a cancel may give. */
export const CANCEL_REASONS: ReadonlySet<string> = new Set<CancelReason>(['caller', 'operator', 'superseded', 'shutdown'])

/** The backoff type of every job this backend adds: the consuming process's definition says how long. */
export const BACKOFF_TYPE = 'fastify-tasks'

/**
 * The consuming side: a BullMQ worker that hands each job to the scheduler to run as a tracked task
 * (its deadline, limits, inspection and drain apply), then tells BullMQ how it ended:
 *
 * | the task ended | the job |
 * |---|---|
 * | `completed` | completed, with the task's result |
 * | `failed` | failed: retried while attempts remain (the definition's `retries` and `backoff`); not retried when the payload or the result was refused |
 * | `timed_out`, `cancelled` (caller, operator, superseded) | failed, not retried (`UnrecoverableError`) |
 * | `cancelled` or `dropped` by this process's shutdown | given back: delayed until now, no attempt used, not counted as stalled |
 * | its name unknown here, or this process closing | given back, after `unknownTaskDelay` for an unknown name |
 * | its name's rate limit reached across the replicas | given back until its window has room, no attempt used |
 */
export class Consumer {
  readonly worker: Worker
  readonly #host: BackendHost
  readonly #options: ResolvedBackendOptions
  readonly #report: (error: Error) => void
  readonly #rates: RateGate
  /** The tasks running jobs here, by job id (to cancel them). */
  readonly running = new Map<string, TaskHandle>()
  /** Processor calls not returned yet, including their last word to Redis. */
  readonly #inFlight = new Set<Promise<unknown>>()
  readonly #unknownReported = new Set<string>()
  /** Whether it takes no jobs now. */
  paused = false
  #stopped = false

  constructor(
    host: BackendHost,
    options: ResolvedBackendOptions,
    connection: RedisClient,
    rates: RateGate,
    report: (error: Error) => void,
  ) {
    this.#host = host
    this.#options = options
    this.#report = report
    this.#rates = rates
    this.worker = new Worker(options.queue, (job: Job, token?: string) => this.#track(this.#process(job, token)), {
      connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      maxStalledCount: options.maxStalledCount,
      lockDuration: options.lockDuration,
      stalledInterval: options.stalledInterval,
      // After a Redis error, look for jobs again within a second (BullMQ waits 15 s: after a Redis
      // restart, a worker idled that long, and a close made meanwhile waited for it).
      runRetryDelay: 1_000,
      removeOnComplete: options.completed,
      removeOnFail: options.failed,
      settings: {
        backoffStrategy: (attemptsMade: number, _type?: string, _error?: Error, job?: MinimalJob) =>
          host.retryDelay(job?.name ?? '', attemptsMade),
      },
    })
    this.worker.on('error', (error) => report(error))
  }

  /**
   * Stops (or starts again) taking jobs, for a while. BullMQ's `pause(true)` needs no Redis and does
   * not wait for the jobs taken; a wait for a job already under way may still bring one.
   */
  pause(paused: boolean): void {
    if (this.#stopped || paused === this.paused) return
    this.paused = paused
    const change = paused ? this.worker.pause(true) : this.worker.resume()
    void Promise.resolve(change).catch((error: unknown) => this.#report(error as Error))
  }

  /** A cancel from the channel: `{ id, reason }` of a job that may run here. Anything else is ignored. */
  cancelFromChannel(message: string): void {
    let parsed: unknown
    try {
      parsed = JSON.parse(message)
    } catch {
      return
    }
    const { id, reason } = (parsed ?? {}) as { id?: unknown; reason?: unknown }
    if (typeof id !== 'string' || typeof reason !== 'string' || !CANCEL_REASONS.has(reason)) return
    this.running.get(id)?.cancel(reason as CancelReason)
  }

  /** Stops taking jobs for good (closing). */
  stop(): void {
    if (this.#stopped) return
    this.#stopped = true
    this.paused = true
    void this.worker.pause(true).catch((error: unknown) => this.#report(error as Error))
  }

  /** Waits for every processor call to return, its result written to Redis or not. */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight])
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#inFlight.add(promise)
    const forget = (): void => void this.#inFlight.delete(promise)
    promise.then(forget, forget)
    return promise
  }

  async #process(job: Job, token: string | undefined): Promise<unknown> {
    const id = job.id!
    const name = job.name
    const data = readJobData(job.data)
    if (data === undefined) throw new UnrecoverableError(`Job ${id} ("${name}") was not added by fastify-tasks: its data has no payload`)
    // Taken by a wait for a job that was under way when this process paused: another one runs it.
    if (this.paused) return this.#giveBack(job, token, 0)
    if (!this.#host.knows(name)) {
      if (!this.#unknownReported.has(name)) {
        this.#unknownReported.add(name)
        this.#report(
          new Error(
            `No definition of task "${name}" in this process: its jobs are offered again every ${this.#options.unknownTaskDelay} ms`,
          ),
        )
      }
      return this.#giveBack(job, token, this.#options.unknownTaskDelay)
    }
    // A rate-limited name: counted across every replica first; over the limit, back to the queue
    // until its window has room (no attempt used).
    const rate = this.#host.rateLimit(name)
    if (rate !== undefined) {
      const wait = await this.#rates.wait(name, rate)
      if (wait > 0) return this.#giveBack(job, token, wait)
    }
    let task: TaskHandle
    try {
      task = this.#host.run({
        id,
        name,
        payload: data.payload,
        priority: fromBullPriority(job.priority),
        timeout: data.timeout,
        attempt: job.attemptsMade + 1,
        labels: data.labels,
        meta: data.meta,
      })
    } catch (error) {
      if (error instanceof ClosingError) return this.#giveBack(job, token, 0)
      throw error
    }
    this.running.set(id, task)
    let settlement: Settlement
    try {
      settlement = await task.settled
    } finally {
      this.running.delete(id)
    }
    switch (settlement.outcome) {
      case 'completed':
        return settlement.value
      case 'failed': {
        const error = settlement.error
        if (error instanceof InvalidPayloadError || error instanceof InvalidResultError) throw new UnrecoverableError(error.message)
        throw asError(error)
      }
      case 'timed_out':
        throw new UnrecoverableError(givenUpReason('timed_out', `Task "${name}" exceeded its deadline (${data.timeout} ms)`))
      case 'cancelled':
        if (settlement.reason === 'shutdown') return this.#giveBack(job, token, 0)
        throw new UnrecoverableError(givenUpReason(`cancelled:${settlement.reason}`, `Task "${name}" was cancelled (${settlement.reason})`))
      case 'dropped':
        // Never started here before this process closed (or dropped by the overflow policy): another run will.
        return this.#giveBack(job, token, 0)
    }
  }

  /** Puts the job back for another run: no attempt used, not stalled. Needs Redis; without it the job stalls and is found later. */
  async #giveBack(job: Job, token: string | undefined, delay: number): Promise<never> {
    // eslint-disable-next-line no-restricted-properties -- a time for Redis, which counts in wall-clock ms
    await job.moveToDelayed(Date.now() + delay, token)
    throw new DelayedError()
  }
}

/** BullMQ records an `Error`'s message: a task that threw something else still fails with a readable one. */
function asError(value: unknown): Error {
  if (value instanceof Error) return value
  let text: string
  try {
    text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))
  } catch {
    text = 'a value that cannot be printed'
  }
  return new Error(`Task failed with a non-Error value: ${text.slice(0, 500)}`)
}
