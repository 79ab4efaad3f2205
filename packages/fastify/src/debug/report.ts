import type { HistoryEntry, LiveState, NameLimitState, ScheduleState, SchedulerSummary, TaskGroup, TaskSnapshot } from '@fastify-tasks/core'
import type { BackpressureState } from '../backpressure/backpressure.js'
import { debugNotes } from './notes.js'
import type { EventLoopSnapshot } from '../backpressure/event-loop-monitor.js'
import { activeResources, memorySnapshot, type MemorySnapshot } from '../process-info.js'
import type { AppTasks } from '../tasks/app-tasks.js'
import { truncate } from '../truncate.js'

/** Longest task name, label or site echoed in a debug response (hostile names stay bounded). */
export const MAX_TEXT = 200

const clip = (value: string): string => truncate(value, MAX_TEXT)

function clipRecord<V extends string | number | boolean>(record: Readonly<Record<string, V>> | null): Record<string, V> | null {
  if (record === null) return null
  const out: Record<string, V> = {}
  let kept = 0
  for (const [key, value] of Object.entries(record)) {
    if (kept++ === 20) break
    out[clip(key)] = (typeof value === 'string' ? clip(value) : value) as V
  }
  return out
}

/** `GET /orders/:id` from a task's labels (request tasks carry method and route), else `null`. */
function routeOf(labels: Readonly<Record<string, string>> | null): string | null {
  const route = labels?.['route']
  if (route === undefined) return null
  const method = labels?.['method']
  return clip(method === undefined ? route : `${method} ${route}`)
}

/** One group of live tasks in the default view. */
export interface GroupRow {
  readonly name: string
  readonly state: LiveState
  readonly route: string | null
  readonly site: string | null
  readonly count: number
  /** Since the oldest task of the group was spawned, queue wait included. */
  readonly oldestAgeMs: number
  /** Since the earliest start in the group; `null` for pending groups. */
  readonly longestRunningMs: number | null
  readonly stuck: number
  readonly leaked: number
  /** Proven hung by the garbage collector: nothing can ever settle them. */
  readonly hung: number
  readonly labels: Record<string, string> | null
}

/** One task name's limit in the default view. */
export interface LimitRow {
  readonly name: string
  /** `adaptive`, `fixed`, or `none` (only `concurrency` bounds it). */
  readonly mode: NameLimitState['mode']
  /** Tasks of the name allowed to hold a slot at once now; `null` for none. */
  readonly limit: number | null
  readonly running: number
  readonly waiting: number
  /** Queue wait of its latest starts (up to 128): median and 99th percentile, ms; `null` before its first start. */
  readonly waitP50Ms: number | null
  readonly waitP99Ms: number | null
  /** Adaptive: median run time of its last window and the baseline it is compared with, ms. */
  readonly latencyMs: number | null
  readonly baselineMs: number | null
  /** Adaptive: the limit's last move and why (`saturated` or `latency`). */
  readonly lastChange: NameLimitState['lastChange']
  /** Its rate limit (`limits.rate`): `max` starts per `duration` ms, starts in the window, ms its tasks are still held; `null` for none. */
  readonly rate: NameLimitState['rate']
}

/** `GET /debug/tasks`: the one-screen view. */
export interface GroupsReport {
  readonly view: 'groups'
  /** What needs attention, in words (a queue that does not move and why, full given-up sets, leaks); empty when all is well. */
  readonly notes: readonly string[]
  readonly summary: SchedulerSummary
  readonly eventLoop: EventLoopSnapshot
  /** Shedding, deferring and the effective concurrency; `null` with `backpressure: false`. */
  readonly backpressure: BackpressureState | null
  readonly memory: MemorySnapshot
  /** What Node itself has open, by type (`Timeout`, `TCPSocketWrap`…), largest first. */
  readonly handles: Record<string, number>
  /** Largest first, at most `maxGroups`. */
  readonly groups: readonly GroupRow[]
  /** Groups left out by the cap. */
  readonly groupsOmitted: number
  /** Limits per task name, the names with most tasks waiting first, then running; at most `maxGroups`. */
  readonly limits: readonly LimitRow[]
  /** Names left out by the cap. */
  readonly limitsOmitted: number
  /**
   * The repeating schedules (`app.tasks.repeat()`): this process's, and on a durable backend the
   * broker's, shared by every replica (`where` says which); at most `maxGroups`.
   */
  readonly schedules: readonly ScheduleState[]
  /** Schedules left out by the cap. */
  readonly schedulesOmitted: number
  /**
   * The durable backend's schedules: `listed` in `schedules`, or `unknown` when the broker did not
   * answer (they are then missing from `schedules`); `null` in memory or on a backend that keeps none.
   */
  readonly backendSchedules: 'listed' | 'unknown' | null
  /**
   * On a durable backend, its tasks by state across every process (`waiting`, `prioritized`,
   * `delayed`, `active`, `completed`, `failed` on BullMQ), read when the view was asked for; `null` in
   * memory or when the broker did not answer.
   */
  readonly backendJobs: Readonly<Record<string, number>> | null
}

/** One live task in `?view=tasks`. */
export interface TaskRow {
  readonly id: string
  readonly name: string
  readonly state: LiveState
  readonly priority: TaskSnapshot['priority']
  /** Since spawn, queue wait included. */
  readonly ageMs: number
  /** Since it started; `null` while pending. */
  readonly runningMs: number | null
  readonly sinceProgressMs: number | null
  readonly deadlineInMs: number | null
  /** A pending task with a `delay`, or waiting to be retried: ms until it may start; else `null`. */
  readonly startsInMs: number | null
  /** Which run this is (named tasks with `retries` run again after a failure), from 1. */
  readonly attempt: number
  readonly abortReason: TaskSnapshot['abortReason']
  readonly stuck: boolean
  readonly leaked: boolean
  /** Proven hung by the garbage collector: nothing can ever settle it. */
  readonly hung: boolean
  readonly requestId: string | number | boolean | null
  readonly route: string | null
  readonly site: string | null
  readonly labels: Record<string, string> | null
  readonly meta: Record<string, string | number | boolean> | null
}

/** `?view=tasks`: one page of live tasks. */
export interface TasksReport {
  readonly view: 'tasks'
  readonly tasks: readonly TaskRow[]
  readonly nextCursor: string | null
}

/** One terminated task in `?view=history`. */
export interface HistoryRow {
  readonly id: string
  readonly name: string
  readonly outcome: HistoryEntry['outcome']
  /** Who cancelled (`operator`, `cancelled`, `superseded`, `shutdown`), `timeout`, or why it was dropped. */
  readonly reason: HistoryEntry['reason']
  readonly durationMs: number
  readonly queueWaitMs: number
  /** How many times it ran: more than 1 for a named task retried after failures. */
  readonly attempts: number
  readonly endedAgoMs: number
  readonly error: string | null
  readonly leaked: boolean
  /** It was proven hung by the garbage collector before it ended. */
  readonly hung: boolean
  /** Set when it ended without its function settling: `evicted`, `expired` or `closed`. */
  readonly release: HistoryEntry['release']
  readonly requestId: string | number | boolean | null
  readonly route: string | null
  readonly site: string | null
}

/** `?view=history`: recently terminated tasks, newest first. */
export interface HistoryReport {
  readonly view: 'history'
  readonly history: readonly HistoryRow[]
}

export function groupsReport(
  scheduler: AppTasks,
  maxGroups: number,
  backendJobs: Readonly<Record<string, number>> | undefined = undefined,
  backendSchedules: { readonly schedules: readonly ScheduleState[]; readonly total: number } | null | undefined = undefined,
): GroupsReport {
  const all: readonly TaskGroup[] = scheduler.groups()
  const groups = all.slice(0, maxGroups).map((g): GroupRow => ({
    name: clip(g.name),
    state: g.state,
    route: routeOf(g.labels),
    site: g.site === null ? null : clip(g.site),
    count: g.count,
    oldestAgeMs: Math.round(g.oldestAgeMs),
    longestRunningMs: g.longestRunningMs === null ? null : Math.round(g.longestRunningMs),
    stuck: g.stuck,
    leaked: g.leaked,
    hung: g.hung,
    labels: clipRecord(g.labels),
  }))
  const summary = scheduler.summary()
  const backpressure = scheduler.backpressure?.state() ?? null
  const perName = scheduler.limits()
  return {
    view: 'groups',
    notes: debugNotes(summary, all, backpressure, perName),
    summary,
    eventLoop: scheduler.eventLoop.snapshot(),
    backpressure,
    memory: memorySnapshot(),
    handles: activeResources(),
    groups,
    groupsOmitted: all.length - groups.length,
    ...limitRows(perName, maxGroups),
    ...scheduleRows(scheduler.schedules(), backendSchedules ?? undefined, maxGroups),
    backendSchedules: backendSchedules === undefined ? null : backendSchedules === null ? 'unknown' : 'listed',
    backendJobs: backendJobs ?? null,
  }
}

/** This process's schedules, then the durable backend's (the soonest due first); at most `max` in all. */
function scheduleRows(
  own: readonly ScheduleState[],
  backend: { readonly schedules: readonly ScheduleState[]; readonly total: number } | undefined,
  max: number,
): { schedules: ScheduleState[]; schedulesOmitted: number } {
  const all = backend === undefined ? own : [...own, ...backend.schedules]
  const schedules = all.slice(0, max).map((s) => ({
    ...s,
    id: clip(s.id),
    name: clip(s.name),
    cron: s.cron === null ? null : clip(s.cron),
    tz: s.tz === null ? null : clip(s.tz),
  }))
  const total = own.length + (backend?.total ?? 0)
  return { schedules, schedulesOmitted: total - schedules.length }
}

function limitRows(all: readonly NameLimitState[], max: number): { limits: LimitRow[]; limitsOmitted: number } {
  const round = (ms: number | null | undefined): number | null => (ms === null || ms === undefined ? null : Math.round(ms))
  const sorted = [...all].sort((a, b) => b.waiting - a.waiting || b.running - a.running)
  const limits = sorted.slice(0, max).map((l): LimitRow => ({
    name: clip(l.name),
    mode: l.mode,
    limit: l.limit,
    running: l.running,
    waiting: l.waiting,
    waitP50Ms: round(l.wait?.p50Ms),
    waitP99Ms: round(l.wait?.p99Ms),
    latencyMs: round(l.latencyMs),
    baselineMs: round(l.baselineMs),
    lastChange:
      l.lastChange === null
        ? null
        : { ...l.lastChange, latencyRatio: Math.round(l.lastChange.latencyRatio * 100) / 100, agoMs: Math.round(l.lastChange.agoMs) },
    rate: l.rate === null ? null : { ...l.rate, heldForMs: Math.round(l.rate.heldForMs) },
  }))
  return { limits, limitsOmitted: all.length - limits.length }
}

export function tasksReport(page: { tasks: readonly TaskSnapshot[]; nextCursor: string | null }): TasksReport {
  return {
    view: 'tasks',
    tasks: page.tasks.map((t): TaskRow => ({
      id: t.id,
      name: clip(t.name),
      state: t.state,
      priority: t.priority,
      ageMs: Math.round(t.ageMs),
      runningMs: t.runningMs === null ? null : Math.round(t.runningMs),
      sinceProgressMs: t.sinceProgressMs === null ? null : Math.round(t.sinceProgressMs),
      deadlineInMs: t.deadlineInMs === null ? null : Math.round(t.deadlineInMs),
      startsInMs: t.startsInMs === null ? null : Math.round(t.startsInMs),
      attempt: t.attempt,
      abortReason: t.abortReason,
      stuck: t.stuck,
      leaked: t.leaked,
      hung: t.hung,
      requestId: t.meta?.['requestId'] ?? null,
      route: routeOf(t.labels),
      site: t.site === null ? null : clip(t.site),
      labels: clipRecord(t.labels),
      meta: clipRecord(t.meta),
    })),
    nextCursor: page.nextCursor,
  }
}

export function historyReport(entries: readonly HistoryEntry[]): HistoryReport {
  return {
    view: 'history',
    history: entries.map((h): HistoryRow => ({
      id: h.id,
      name: clip(h.name),
      outcome: h.outcome,
      reason: h.reason,
      durationMs: Math.round(h.durationMs),
      queueWaitMs: Math.round(h.queueWaitMs),
      attempts: h.attempts,
      endedAgoMs: Math.round(h.endedAgoMs),
      error: h.error,
      leaked: h.leaked,
      hung: h.hung,
      release: h.release,
      requestId: h.meta?.['requestId'] ?? null,
      route: routeOf(h.labels),
      site: h.site === null ? null : clip(h.site),
    })),
  }
}
