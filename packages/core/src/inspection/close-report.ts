import type { AbandonedGroup, CloseReport } from '../inspection.js'
import type { SiteRef } from '../spawn-site.js'
import type { Outcome, TaskRecord } from '../task.js'
import { largestFirst } from './largest-first.js'

/** What the close report reads of a task the drain abandoned (by then terminal). */
export type AbandonedTask = Readonly<Pick<TaskRecord, 'name' | 'siteRef' | 'spawnedAt' | 'state' | 'reason' | 'release'>>

/** What the drain hands over once it is done. */
export interface DrainResult {
  /** When `close()` was called, and when the drain ended. */
  readonly startedAt: number
  readonly endedAt: number
  /** Terminated tasks by outcome, when the drain began and when it ended. */
  readonly outcomesBefore: Readonly<Record<Outcome, number>>
  readonly outcomesAfter: Readonly<Record<Outcome, number>>
  /** Tasks the drain gave up on, each once: dropped, aborted at the deadline, or given up on before. */
  readonly abandoned: readonly AbandonedTask[]
  siteOf(ref: SiteRef): string | undefined
}

interface Group {
  readonly name: string
  readonly site: string | null
  count: number
  dropped: number
  aborted: number
  givenUp: number
  unsettled: number
  oldest: number
}

/** The report `close()` resolves with: what finished while closing, and the abandoned tasks grouped by name and site. */
export function closeReport(drain: DrainResult): CloseReport {
  const { startedAt, endedAt, outcomesBefore: before, outcomesAfter: after } = drain
  const finished: Record<Outcome, number> = {
    completed: after.completed - before.completed,
    failed: after.failed - before.failed,
    cancelled: after.cancelled - before.cancelled,
    timed_out: after.timed_out - before.timed_out,
    dropped: after.dropped - before.dropped,
  }
  const groups = new Map<string, Group>()
  const totals = { dropped: 0, aborted: 0, givenUp: 0, unsettled: 0 }
  for (const task of drain.abandoned) {
    const site = task.siteRef === undefined ? null : (drain.siteOf(task.siteRef) ?? null)
    const key = `${task.name}\u0000${site ?? ''}`
    let group = groups.get(key)
    if (group === undefined) {
      group = { name: task.name, site, count: 0, dropped: 0, aborted: 0, givenUp: 0, unsettled: 0, oldest: task.spawnedAt }
      groups.set(key, group)
    }
    group.count++
    if (task.spawnedAt < group.oldest) group.oldest = task.spawnedAt
    const kind = task.state === 'dropped' ? 'dropped' : task.reason === 'shutdown' ? 'aborted' : 'givenUp'
    group[kind]++
    totals[kind]++
    if (task.release !== undefined) {
      group.unsettled++
      totals.unsettled++
    }
  }
  const abandoned: AbandonedGroup[] = [...groups.values()]
    .map((g) => ({
      name: g.name,
      site: g.site,
      count: g.count,
      dropped: g.dropped,
      aborted: g.aborted,
      givenUp: g.givenUp,
      unsettled: g.unsettled,
      oldestAgeMs: endedAt - g.oldest,
    }))
    .sort(largestFirst)
  return {
    clean: drain.abandoned.length === 0,
    durationMs: endedAt - startedAt,
    finished,
    ...totals,
    abandoned,
  }
}

/** What `close()` resolves with if the drain itself failed (a last guard: it never should). */
export function failedCloseReport(): CloseReport {
  return {
    clean: false,
    durationMs: 0,
    finished: { completed: 0, failed: 0, cancelled: 0, timed_out: 0, dropped: 0 },
    dropped: 0,
    aborted: 0,
    givenUp: 0,
    unsettled: 0,
    abandoned: [],
  }
}
