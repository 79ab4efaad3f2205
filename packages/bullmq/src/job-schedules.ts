import type { BackendSchedule, OutgoingSchedule } from '@fastify-tasks/core'
import type { JobSchedulerJson, JobSchedulerTemplateOptions, RepeatOptions } from 'bullmq'
import { BACKOFF_TYPE } from './consumer.js'
import { bullPriority, type JobData } from './job-data.js'

/**
 * BullMQ's repeat options for `schedule`. `immediately` counts only where the schedule is made: a
 * replica that upserts an existing schedule again (at each start) must neither add a run nor move
 * the next one. BullMQ keeps an interval's next time across upserts, and runs a new interval
 * schedule at once unless given a `startDate`; a cron schedule runs at once whenever it is upserted
 * with `immediately`, so `exists` says whether it is new.
 */
export function repeatOptions(schedule: OutgoingSchedule, now: number, exists: boolean): Omit<RepeatOptions, 'key'> {
  if (schedule.every !== null)
    return schedule.immediately ? { every: schedule.every } : { every: schedule.every, startDate: now + schedule.every }
  return {
    pattern: schedule.cron!,
    ...(schedule.tz === null ? {} : { tz: schedule.tz }),
    ...(schedule.immediately && !exists ? { immediately: true } : {}),
  }
}

/** The job each turn makes: the task's name, its data as a spawn's, its priority and attempts. */
export function scheduleTemplate(schedule: OutgoingSchedule): { name: string; data: JobData; opts: JobSchedulerTemplateOptions } {
  return {
    name: schedule.name,
    data: {
      payload: schedule.payload,
      timeout: schedule.timeout === Infinity ? null : schedule.timeout,
      meta: schedule.meta,
    },
    opts: {
      priority: bullPriority(schedule.priority),
      ...(schedule.attempts > 1 ? { attempts: schedule.attempts, backoff: { type: BACKOFF_TYPE } } : {}),
    },
  }
}

/** A job scheduler as `scheduler.backendSchedules()` shows it. */
export function toBackendSchedule(json: JobSchedulerJson): BackendSchedule {
  return {
    id: json.key,
    name: json.name,
    every: json.every ?? null,
    cron: json.pattern ?? null,
    tz: json.tz ?? null,
    nextAt: json.next ?? null,
    spawned: json.iterationCount ?? 0,
  }
}
