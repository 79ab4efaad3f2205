import { PRIORITIES, type OutgoingTask, type Priority } from '@fastify-tasks/core'

/**
 * What a job carries in Redis besides its name: the payload as the JSON text the scheduler checked
 * (parsed again, and checked again, by whichever process runs it) and the deadline of each run.
 */
export interface JobData {
  readonly payload: string
  /** Ms; `null` for none (JSON has no `Infinity`). */
  readonly timeout: number | null
  /** The spawner's labels and meta (a request's route and id), when it had some. */
  readonly labels?: Readonly<Record<string, string>>
  readonly meta?: Readonly<Record<string, string | number | boolean>>
}

/** A job's data as read back: the deadline as a number again. */
export interface ReadJobData {
  readonly payload: string
  readonly timeout: number
  readonly labels: Readonly<Record<string, string>> | undefined
  readonly meta: Readonly<Record<string, string | number | boolean>> | undefined
}

export function jobData(task: OutgoingTask): JobData {
  return {
    payload: task.payload,
    timeout: task.timeout === Infinity ? null : task.timeout,
    ...(task.labels === undefined ? {} : { labels: task.labels }),
    ...(task.meta === undefined ? {} : { meta: task.meta }),
  }
}

/** The data of a job from Redis, or `undefined` when it was not written by this backend. Malformed labels or meta are left out. */
export function readJobData(data: unknown): ReadJobData | undefined {
  if (typeof data !== 'object' || data === null) return undefined
  const { payload, timeout, labels, meta } = data as Partial<Record<keyof JobData, unknown>>
  if (typeof payload !== 'string') return undefined
  if (timeout !== null && (typeof timeout !== 'number' || !(timeout >= 0))) return undefined
  return {
    payload,
    timeout: timeout === null ? Infinity : timeout,
    labels: flat(labels, (v) => typeof v === 'string') as ReadJobData['labels'],
    meta: flat(meta, (v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') as ReadJobData['meta'],
  }
}

/** A flat record whose values all pass `accept`, frozen; else `undefined`. */
function flat(value: unknown, accept: (v: unknown) => boolean): Readonly<Record<string, unknown>> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  return Object.values(value).every(accept) ? Object.freeze({ ...value }) : undefined
}

/**
 * BullMQ runs lower priority numbers first and has no aging: `critical` 1 … `low` 4. Every level is
 * given a number, as BullMQ takes jobs without one (0) before every prioritized job.
 */
export function bullPriority(priority: Priority): number {
  return PRIORITIES.indexOf(priority) + 1
}

export function fromBullPriority(priority: number | undefined): Priority {
  return PRIORITIES[(priority ?? 3) - 1] ?? 'normal'
}
