import type { GroupRow, GroupsReport, HistoryReport, LimitRow, TasksReport } from './report.js'
import { bytes, duration, printable, textTable } from './text-table.js'

const percent = (ratio: number): string => `${Math.round(ratio * 100)}%`

/** The default view as a terminal screen: totals, event loop, memory, handles, then the groups. */
export function groupsText(report: GroupsReport): string {
  const { summary: s, eventLoop: e, memory: m } = report
  const handles = Object.entries(report.handles)
    .map(([type, count]) => `${printable(type, 40)} ${count}`)
    .join(' · ')
  const lines = [
    ...report.notes.map((note) => `attention: ${note}`),
    `tasks: ${s.live.total} live (pending ${s.live.pending}${s.live.delayed === 0 ? '' : ` of which ${s.live.delayed} delayed`}, running ${s.live.running}, aborting ${s.live.aborting})` +
      ` · stuck ${s.stuck} · leaked ${s.leaked.live}${s.hung.total === 0 ? '' : ` · hung ${s.hung.live}`} · concurrency ${s.limits.concurrency} · queue ${s.live.pending}/${s.limits.maxQueue}` +
      ` · given up ${s.givenUp.live} (cap ${s.limits.maxGivenUpPerName} per name, ${s.limits.maxGivenUp} in all)` +
      (s.closing ? ' · CLOSING' : ''),
    `since start: spawned ${s.spawned} · completed ${s.outcomes.completed} · failed ${s.outcomes.failed}` +
      ` · timed out ${s.outcomes.timed_out} · cancelled ${s.outcomes.cancelled} · dropped ${s.outcomes.dropped}` +
      ` · rejected ${s.rejected.queue_full + s.rejected.overloaded + s.rejected.closing + s.rejected.unavailable}` +
      ` · released unsettled ${s.givenUp.evicted + s.givenUp.expired + s.givenUp.closed} (settled late ${s.givenUp.late})`,
    ...(s.backend.kind === 'memory'
      ? []
      : [
          `backend: ${s.backend.kind} · ${s.backend.connected === true ? 'connected' : 'DISCONNECTED'} · admitting ${s.backend.admitting}` +
            ` · enqueued ${s.backend.enqueued} since start · jobs of every replica: ` +
            (report.backendJobs === null
              ? 'unknown (no answer)'
              : Object.entries(report.backendJobs)
                  .map(([state, count]) => `${printable(state, 20)} ${count}`)
                  .join(' · ')),
        ]),
    `event loop: delay p50 ${e.delayMs.p50}ms p99 ${e.delayMs.p99}ms max ${e.delayMs.max}ms · utilization ${percent(e.utilization)}` +
      ` · overloaded ${e.overloaded ? `YES (${e.overloadSignal ?? '?'})` : 'no'}`,
    ...(report.backpressure === null
      ? []
      : [
          `backpressure: concurrency ${report.backpressure.concurrency.effective}/${report.backpressure.concurrency.max}` +
            `${report.backpressure.concurrency.adaptive ? ' (adaptive)' : ''} · sheds below ${report.backpressure.admitWhenOverloaded} (${report.backpressure.onOverload})` +
            ` · shed spawns ${s.rejected.overloaded} · deferred ${s.deferred} · shed requests ${report.backpressure.requestsShed}`,
        ]),
    `memory: rss ${bytes(m.rssBytes)} · heap ${bytes(m.heapUsedBytes)} / ${bytes(m.heapTotalBytes)} · external ${bytes(m.externalBytes)}`,
    `handles: ${handles === '' ? 'none' : handles}`,
    '',
  ]
  // The HUNG column only once a task was proven hung: the usual table stays as it was.
  const hung = report.summary.hung.total > 0
  if (report.groups.length === 0) lines.push('no live tasks')
  else {
    lines.push(
      textTable(
        [
          { header: 'COUNT', value: (g) => g.count, right: true },
          { header: 'STATE', value: (g) => g.state },
          { header: 'SPAWNED AGO', value: (g) => duration(g.oldestAgeMs), right: true },
          { header: 'RUNNING FOR', value: (g) => duration(g.longestRunningMs), right: true },
          { header: 'STUCK', value: (g) => g.stuck, right: true },
          { header: 'LEAKED', value: (g) => g.leaked, right: true },
          ...(hung ? [{ header: 'HUNG', value: (g: GroupRow) => g.hung, right: true }] : []),
          { header: 'TASK', value: (g) => g.name, max: 40 },
          { header: 'ROUTE', value: (g) => g.route, max: 40 },
          { header: 'SITE', value: (g) => g.site, max: 80 },
        ],
        report.groups,
      ),
    )
  }
  if (report.groupsOmitted > 0) lines.push(`… and ${report.groupsOmitted} smaller groups`)
  if (report.groups.length > 0) {
    lines.push(
      '',
      'SPAWNED AGO: the oldest task of the group, queue wait included · RUNNING FOR: since the earliest start (- while pending)' +
        (hung ? ' · HUNG: proven by the garbage collector, nothing can ever settle them' : ''),
    )
  }
  if (report.limits.length > 0) {
    lines.push(
      '',
      textTable(
        [
          { header: 'LIMIT', value: (l) => (l.limit === null ? '-' : `${l.limit}${l.mode === 'adaptive' ? '' : ' fixed'}`), right: true },
          {
            header: 'RATE',
            value: (l) => (l.rate === null ? '-' : `${l.rate.max}/${duration(l.rate.duration)}${l.rate.heldForMs > 0 ? ' held' : ''}`),
          },
          { header: 'RUNNING', value: (l) => l.running, right: true },
          { header: 'WAITING', value: (l) => l.waiting, right: true },
          { header: 'WAITED P50', value: (l) => duration(l.waitP50Ms), right: true },
          { header: 'WAITED P99', value: (l) => duration(l.waitP99Ms), right: true },
          { header: 'RUN P50', value: (l) => duration(l.latencyMs), right: true },
          { header: 'BASELINE', value: (l) => duration(l.baselineMs), right: true },
          { header: 'LAST MOVE', value: (l) => lastMove(l.lastChange) },
          { header: 'TASK', value: (l) => l.name, max: 40 },
        ],
        report.limits,
      ),
    )
    if (report.limitsOmitted > 0) lines.push(`… and ${report.limitsOmitted} more task names`)
    lines.push(
      '',
      'LIMIT: tasks of the name allowed to run at once (adaptive unless fixed) · WAITED: queue wait of its latest starts · RUN P50: median run time of its last window',
    )
  }
  if (report.backendSchedules === 'unknown') {
    lines.push('', `schedules of the ${report.summary.backend.kind} backend: unknown (no answer)`)
  }
  if (report.schedules.length > 0) {
    lines.push(
      '',
      textTable(
        [
          { header: 'SCHEDULE', value: (s) => s.id, max: 40 },
          {
            header: 'EVERY / CRON',
            value: (s) => (s.every !== null ? duration(s.every) : `${s.cron}${s.tz === null ? '' : ` ${s.tz}`}`),
            right: true,
          },
          { header: 'NEXT IN', value: (s) => duration(s.nextInMs), right: true },
          { header: 'SPAWNED', value: (s) => s.spawned, right: true },
          { header: 'SKIPPED', value: (s) => s.skipped ?? '-', right: true },
          { header: 'REFUSED', value: (s) => s.refused ?? '-', right: true },
          { header: 'WHERE', value: (s) => s.where },
          { header: 'TASK', value: (s) => s.name, max: 40 },
        ],
        report.schedules,
      ),
      '',
      ...(report.schedulesOmitted > 0 ? [`… and ${report.schedulesOmitted} more schedules`] : []),
      'SKIPPED: turns that found the last run still live (runs never overlap) · REFUSED: turns whose spawn was refused (queue full, overloaded) · WHERE: memory (this process) or the durable backend (shared by every replica; - where it does not count)',
    )
  }
  return `${lines.join('\n')}\n`
}

/** `240→120 latency 2.1× baseline, 3.0s ago` */
function lastMove(change: LimitRow['lastChange']): string {
  if (change === null) return '-'
  const why = change.cause === 'latency' ? `latency ${change.latencyRatio}× baseline` : change.cause
  return `${change.from}→${change.to} ${why}, ${duration(change.agoMs)} ago`
}

/** `?view=tasks` as a table, one live task per line. */
export function tasksText(report: TasksReport): string {
  const table = textTable(
    [
      { header: 'ID', value: (t) => t.id, right: true },
      { header: 'STATE', value: (t) => t.state },
      { header: 'PRIO', value: (t) => t.priority },
      { header: 'SPAWNED AGO', value: (t) => duration(t.ageMs), right: true },
      { header: 'STARTS IN', value: (t) => duration(t.startsInMs), right: true },
      { header: 'RUNNING FOR', value: (t) => duration(t.runningMs), right: true },
      { header: 'NO PROGRESS', value: (t) => duration(t.sinceProgressMs), right: true },
      { header: 'DEADLINE IN', value: (t) => duration(t.deadlineInMs), right: true },
      { header: 'ABORT', value: (t) => t.abortReason },
      {
        header: 'FLAGS',
        value: (t) =>
          [t.stuck ? 'stuck' : '', t.leaked ? 'leaked' : '', t.hung ? 'hung' : '', t.attempt > 1 ? `attempt ${t.attempt}` : '']
            .filter(Boolean)
            .join(',') || '-',
      },
      { header: 'TASK', value: (t) => t.name, max: 40 },
      { header: 'REQUEST', value: (t) => t.requestId, max: 24 },
      { header: 'ROUTE', value: (t) => t.route, max: 40 },
      { header: 'SITE', value: (t) => t.site, max: 80 },
    ],
    report.tasks,
  )
  const more = report.nextCursor === null ? '' : `\nmore: ?view=tasks&cursor=${report.nextCursor}`
  return `${report.tasks.length === 0 ? 'no live tasks match' : table}${more}\n`
}

/** `?view=history` as a table, newest first. */
export function historyText(report: HistoryReport): string {
  if (report.history.length === 0) return 'no terminated tasks yet\n'
  return `${textTable(
    [
      { header: 'ID', value: (h) => h.id, right: true },
      { header: 'OUTCOME', value: (h) => h.outcome },
      { header: 'BY', value: (h) => h.reason },
      { header: 'DURATION', value: (h) => duration(h.durationMs), right: true },
      { header: 'ATTEMPTS', value: (h) => String(h.attempts), right: true },
      { header: 'ENDED', value: (h) => `${duration(h.endedAgoMs)} ago`, right: true },
      { header: 'RELEASED', value: (h) => h.release },
      { header: 'TASK', value: (h) => h.name, max: 40 },
      { header: 'ROUTE', value: (h) => h.route, max: 40 },
      { header: 'ERROR', value: (h) => h.error, max: 80 },
    ],
    report.history,
  )}\n`
}
