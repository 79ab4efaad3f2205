import type { TaskGroup } from '../inspection.js'
import type { SiteRef } from '../spawn-site.js'
import type { LiveState } from '../task.js'
import { largestFirst } from './largest-first.js'
import type { LiveTask, SchedulerState } from './scheduler-state.js'
import { isStuck } from './stuck.js'

/** Tasks that share a name, a state and the identity of their site and labels objects. */
interface CoarseGroup {
  /** The first task seen: its name, state, site and labels are the group's. */
  readonly task: LiveTask
  count: number
  oldest: number
  /** Earliest start among them (NaN while pending). */
  firstStart: number
  stuck: number
  leaked: number
  hung: number
}

/** Coarse groups, then merged when their sites and labels are equal by value. */
interface FineGroup extends Omit<CoarseGroup, 'task'> {
  readonly name: string
  readonly state: LiveState
  readonly site: string | null
  readonly labels: Record<string, string> | null
}

type BySite = Map<SiteRef | undefined, Map<object | undefined, CoarseGroup>>

/**
 * Live tasks grouped by name, state, spawn site and labels (equal labels in any key order are one
 * group); largest groups first (`Scheduler.groups()`).
 *
 * Two passes, so that 100 000 live tasks take a few ms: the first groups by the identity of the
 * site and labels objects (nested maps, no string built per task), the second merges the groups
 * whose sites and labels are equal by value (one key string per group).
 */
export function groupLiveTasks(state: SchedulerState): TaskGroup[] {
  const { now } = state
  const stuckAfter = state.options.stuckAfter
  const byName = new Map<string, Map<string, BySite>>()
  const coarse: CoarseGroup[] = []
  const visit = (task: LiveTask): void => {
    let byState = byName.get(task.name)
    if (byState === undefined) byName.set(task.name, (byState = new Map<string, BySite>()))
    let bySite = byState.get(task.state)
    if (bySite === undefined) byState.set(task.state, (bySite = new Map() as BySite))
    let byLabels = bySite.get(task.siteRef)
    if (byLabels === undefined) bySite.set(task.siteRef, (byLabels = new Map<object | undefined, CoarseGroup>()))
    const stuck = isStuck(task, now, stuckAfter) ? 1 : 0
    const leaked = task.leaked ? 1 : 0
    const hung = task.hung ? 1 : 0
    const group = byLabels.get(task.labels)
    if (group === undefined) {
      const created = { task, count: 1, oldest: task.spawnedAt, firstStart: task.startedAt, stuck, leaked, hung }
      byLabels.set(task.labels, created)
      coarse.push(created)
    } else {
      group.count++
      group.stuck += stuck
      group.leaked += leaked
      group.hung += hung
      if (task.spawnedAt < group.oldest) group.oldest = task.spawnedAt
      if (task.startedAt < group.firstStart) group.firstStart = task.startedAt
    }
  }
  for (const task of state.queued) visit(task)
  for (const task of state.delayed) visit(task)
  for (const task of state.running) visit(task)
  for (const task of state.givenUp) visit(task)

  const fine = new Map<string, FineGroup>()
  for (const group of coarse) {
    const task = group.task
    const site = task.siteRef === undefined ? null : (state.siteOf(task.siteRef) ?? null)
    const labels = task.labels === undefined ? null : { ...task.labels }
    const key = `${task.name}\u0000${task.state}\u0000${site ?? ''}\u0000${labels === null ? '' : canonicalLabels(labels)}`
    const merged = fine.get(key)
    if (merged === undefined) {
      const { count, oldest, firstStart, stuck, leaked, hung } = group
      fine.set(key, { name: task.name, state: task.state as LiveState, site, labels, count, oldest, firstStart, stuck, leaked, hung })
    } else {
      merged.count += group.count
      merged.stuck += group.stuck
      merged.leaked += group.leaked
      merged.hung += group.hung
      if (group.oldest < merged.oldest) merged.oldest = group.oldest
      if (group.firstStart < merged.firstStart) merged.firstStart = group.firstStart
    }
  }
  const out: TaskGroup[] = []
  for (const g of fine.values()) {
    const longestRunningMs = Number.isNaN(g.firstStart) ? null : now - g.firstStart
    out.push({
      name: g.name,
      state: g.state,
      site: g.site,
      labels: g.labels,
      count: g.count,
      oldestAgeMs: now - g.oldest,
      longestRunningMs,
      stuck: g.stuck,
      leaked: g.leaked,
      hung: g.hung,
    })
  }
  return out.sort(largestFirst)
}

/** The labels as one string, keys sorted: equal labels in any key order give the same string. */
function canonicalLabels(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join('\u0001')
}
