import { PRIORITIES, type OutgoingTask, type Priority } from '@fastify-tasks/core'

/**
 * What a job carries in Redis besides its name: the payload as the JSON text the scheduler checked
 * (parsed again, and checked again, by whichever process runs it) and the deadline of each run.
 */
export interface JobData {
  readonly payload: string
  /** Ms; `null` for none (JSON has no `Infinity`). */
  readonly timeout: number | null
}

export function jobData(task: OutgoingTask): JobData {
  return { payload: task.payload, timeout: task.timeout === Infinity ? null : task.timeout }
}

/** The data of a job from Redis, or `undefined` when it was not written by this backend. */
export function readJobData(data: unknown): { payload: string; timeout: number } | undefined {
  if (typeof data !== 'object' || data === null) return undefined
  const { payload, timeout } = data as Partial<JobData>
  if (typeof payload !== 'string') return undefined
  if (timeout === null) return { payload, timeout: Infinity }
  if (typeof timeout !== 'number' || !(timeout >= 0)) return undefined
  return { payload, timeout }
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
