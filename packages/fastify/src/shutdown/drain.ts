import type { CloseReport } from '@fastify-tasks/core'
import type { FastifyBaseLogger } from 'fastify'
import type { AppTasks } from '../tasks/app-tasks.js'

/**
 * The drain, run from the plugin's `onClose` hook: after in-flight requests have finished (Fastify
 * closes the server first) and before plugins registered earlier close. Logs one line per abandoned
 * group and a summary line.
 */
export async function drainAndReport(scheduler: AppTasks, log: FastifyBaseLogger): Promise<CloseReport> {
  const drainTimeout = scheduler.drainTimeout
  const report = await scheduler.close({ timeout: drainTimeout })
  for (const group of report.abandoned) {
    log.warn(
      {
        task: group.name,
        site: group.site,
        count: group.count,
        oldestAgeMs: Math.round(group.oldestAgeMs),
        dropped: group.dropped,
        aborted: group.aborted,
        givenUp: group.givenUp,
        unsettled: group.unsettled,
      },
      'background tasks abandoned at shutdown',
    )
  }
  const summary = {
    clean: report.clean,
    durationMs: Math.round(report.durationMs),
    drainTimeoutMs: drainTimeout,
    finished: report.finished,
    dropped: report.dropped,
    aborted: report.aborted,
    givenUp: report.givenUp,
    unsettled: report.unsettled,
  }
  if (report.clean) log.info(summary, 'background tasks drained')
  else log.warn(summary, 'background tasks drained; some were abandoned')
  return report
}
