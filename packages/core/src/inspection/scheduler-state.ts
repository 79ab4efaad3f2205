import type { RejectReason } from '../errors.js'
import type { BackendSummary } from '../inspection.js'
import type { ResolvedOptions } from '../options.js'
import type { SiteRef } from '../spawn-site.js'
import type { Outcome, Release, TaskRecord } from '../task.js'

/** What inspection reads of a live task. Read-only: inspection never changes a task. */
export type LiveTask = Readonly<
  Pick<
    TaskRecord,
    | 'seq'
    | 'id'
    | 'name'
    | 'state'
    | 'priority'
    | 'spawnedAt'
    | 'readyAt'
    | 'attempt'
    | 'startedAt'
    | 'lastProgressAt'
    | 'timeout'
    | 'abortReason'
    | 'leaked'
    | 'hung'
    | 'labels'
    | 'meta'
    | 'siteRef'
  >
>

/** Live tasks of one kind (waiting, given up on), iterated in their own order. */
export interface LiveTasks extends Iterable<LiveTask> {
  readonly size: number
}

/**
 * Live tasks in spawn order (ascending `seq`), walked from either end: a walk that has found what it
 * needs stops there. The list must not change during a walk.
 */
export interface SpawnOrderedTasks {
  /** The earliest spawned, or `undefined` when empty. */
  readonly head: LiveTask | undefined
  /** The latest spawned, or `undefined` when empty. */
  readonly tail: LiveTask | undefined
  /** The task after `task` (which must be in this list), or `undefined` at the tail. */
  after(task: LiveTask): LiveTask | undefined
  /** The task before `task` (which must be in this list), or `undefined` at the head. */
  before(task: LiveTask): LiveTask | undefined
}

/** The given-up set, as inspection sees it. */
export interface GivenUpTasks extends LiveTasks {
  /** Names whose `maxGivenUpPerName` cap is reached, at most `limit` of them. */
  fullNames(limit: number): string[]
}

/** What the scheduler has counted since it was created. */
export interface SchedulerCounts {
  readonly spawned: number
  readonly deferred: number
  readonly rejected: Readonly<Record<RejectReason, number>>
  readonly outcomes: Readonly<Record<Outcome, number>>
  /** Live tasks flagged leaked (still in the given-up set). */
  readonly leakedLive: number
  /** Tasks ever flagged leaked. */
  readonly leakedTotal: number
  /** Live tasks proven hung (still in the given-up set), and every task ever proven hung. */
  readonly hungLive: number
  readonly hungTotal: number
  /** Given-up tasks released without settling, by release. */
  readonly released: Readonly<Record<Release, number>>
  /** Functions that settled after their task was released. */
  readonly late: number
}

/**
 * A read-only view of a scheduler's state at one instant: all that the inspection modules
 * (`summary`, `groups`, `list`) read. The scheduler makes one per inspection call, so the state
 * machine's hot path never pays for inspection.
 */
export interface SchedulerState {
  /** The clock's reading when the view was made. */
  readonly now: number
  readonly options: Readonly<ResolvedOptions>
  /** The current concurrency (it can be changed at run time). */
  readonly concurrency: number
  readonly closing: boolean
  /** Waiting tasks: by priority level, then by name, then in order of arrival. */
  readonly queued: LiveTasks
  /** The same waiting tasks, one list per priority level and task name (most urgent level first), each in spawn order. */
  readonly queueLists: readonly SpawnOrderedTasks[]
  /** Pending tasks not yet allowed to start (a `delay`, a retry's backoff), in no particular order. */
  readonly delayed: readonly LiveTask[]
  /** Tasks holding a slot, in no particular order. */
  readonly running: readonly LiveTask[]
  /** Tasks given up on whose functions have not settled, in order of abort. */
  readonly givenUp: GivenUpTasks
  readonly counts: SchedulerCounts
  /** Where named tasks go: `memory`, or a durable backend's kind with its spawns in flight and acknowledged. */
  readonly backend: BackendSummary
  /** `file:line` of a spawn site, formatted on first use. */
  siteOf(ref: SiteRef): string | undefined
}
