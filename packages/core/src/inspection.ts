import type { AbortReason, RejectReason } from './errors.js'
import type { OverflowPolicy } from './options.js'
import type { Priority } from './priority.js'
import type { LiveState, Outcome } from './task.js'

/** Counts and limits at one instant. A fresh copy each time. */
/**
 * Where named tasks go: `kind` is `memory` (this process; both counts stay 0) or a durable backend's
 * kind (`bullmq`). `admitting`: spawns handed to it and not acknowledged yet; `enqueued`: spawns it
 * acknowledged since the scheduler was made. The tasks it hands over to run here are counted like
 * spawned ones (`spawned`, `live`, `outcomes`): the other fields describe this process's runs.
 */
export interface BackendSummary {
  readonly kind: string
  /** Whether the durable backend reaches its broker now; `null` in memory. */
  readonly connected: boolean | null
  readonly admitting: number
  readonly enqueued: number
}

export interface SchedulerSummary {
  /**
   * Live tasks by state. Only `running` tasks hold a concurrency slot; `aborting` ones were given up
   * on (deadline, cancel, shutdown) and are tracked in the bounded given-up set until they settle.
   */
  /** Live tasks by state; `delayed` are the pending ones not yet allowed to start (a `delay`, a retry's backoff). */
  readonly live: {
    readonly pending: number
    readonly delayed: number
    readonly running: number
    readonly aborting: number
    readonly total: number
  }
  /** Tasks admitted since the scheduler was created. */
  readonly spawned: number
  /** Of those, how many the admission check deferred (queued while overloaded). */
  readonly deferred: number
  /** Spawns refused, by reason. */
  readonly rejected: Readonly<Record<RejectReason, number>>
  /** Terminated tasks, by outcome. */
  readonly outcomes: Readonly<Record<Outcome, number>>
  /** Running tasks with no progress for `stuckAfter`. */
  readonly stuck: number
  /** Time since the oldest running (not aborting) task started, in ms; `null` when none runs. */
  readonly oldestRunningAgeMs: number | null
  /** `live`: aborted tasks still unsettled past `abortGrace` now; `total`: every task ever flagged. */
  readonly leaked: { readonly live: number; readonly total: number }
  /**
   * `live`: given-up tasks proven hung now (the garbage collector collected their function's promise:
   * nothing can settle them); `total`: every task ever proven hung. See `TaskHandle.hung`.
   */
  readonly hung: { readonly live: number; readonly total: number }
  /**
   * The given-up set: tasks aborted whose functions have not settled. They hold no slot.
   * `evicted`/`expired`/`closed` count tasks released from it without settling (to make room, after
   * `givenUpTtl`, by `close()`); `late` counts functions that settled after their task was released.
   * `full` names (at most 10) the task names at their `maxGivenUpPerName` cap now.
   */
  readonly givenUp: {
    readonly live: number
    readonly evicted: number
    readonly expired: number
    readonly closed: number
    readonly late: number
    readonly full: readonly string[]
  }
  readonly limits: {
    readonly concurrency: number
    /** How each task name's limit is set: `'adaptive'`, a fixed number for every name, or `false` for none (see `Scheduler.limits()`). */
    readonly perName: 'adaptive' | number | false
    /** The bulkhead: the share of `concurrency` one name may hold while others wait. */
    readonly maxShare: number
    readonly maxQueue: number
    readonly overflow: OverflowPolicy
    readonly timeout: number
    readonly abortGrace: number
    readonly maxGivenUpPerName: number
    readonly maxGivenUp: number
    readonly givenUpTtl: number
    readonly stuckAfter: number
  }
  /** `true` once `close()` was called. */
  readonly closing: boolean
  /** Where named tasks go. */
  readonly backend: BackendSummary
}

/** Live tasks sharing name, state, spawn site and labels. */
export interface TaskGroup {
  readonly name: string
  readonly state: LiveState
  readonly site: string | null
  readonly labels: Readonly<Record<string, string>> | null
  readonly count: number
  /** Age (since spawn) of the oldest task in the group, in ms: queue wait included. */
  readonly oldestAgeMs: number
  /** Time since the earliest start among its tasks, in ms (running or aborting); `null` for `pending`. */
  readonly longestRunningMs: number | null
  /** How many of them are flagged stuck / leaked / proven hung. */
  readonly stuck: number
  readonly leaked: number
  readonly hung: number
}

/** One live task. */
export interface TaskSnapshot {
  readonly id: string
  readonly name: string
  readonly state: LiveState
  readonly priority: Priority
  /** Since spawn, in ms. */
  readonly ageMs: number
  /** Time waited for a slot so far (pending) or in all (started), in ms, from when it could start (after its `delay` or retry backoff). */
  readonly queueWaitMs: number
  /** A pending task spawned with a `delay`, or waiting to be retried: ms until it may start; else `null`. */
  readonly startsInMs: number | null
  /** Which run of the task this is, from 1 (named tasks with `retries` run again after a failure). */
  readonly attempt: number
  /** Since it started, or `null` while pending. */
  readonly runningMs: number | null
  /** Since its last `progress()` (or start), or `null` while pending. */
  readonly sinceProgressMs: number | null
  /** Until its deadline (negative once passed), or `null` with no deadline or while pending. */
  readonly deadlineInMs: number | null
  readonly timeout: number | null
  readonly abortReason: AbortReason | null
  readonly stuck: boolean
  readonly leaked: boolean
  /** Proven hung: see `TaskHandle.hung`. */
  readonly hung: boolean
  readonly labels: Readonly<Record<string, string>> | null
  readonly meta: Readonly<Record<string, string | number | boolean>> | null
  readonly site: string | null
}

/** Which live tasks `list` returns. */
export interface ListQuery {
  /** Only these states. */
  state?: LiveState | readonly LiveState[]
  /** Only this exact name. */
  name?: string
  /** Only tasks older than this many ms (since spawn). */
  olderThan?: number
  /**
   * Page size, 1 to {@link MAX_LIST_LIMIT}.
   * @default 100
   */
  limit?: number
  /** `nextCursor` of the previous page. */
  cursor?: string
}

/** One page of live tasks, in spawn order. */
export interface TaskPage {
  readonly tasks: readonly TaskSnapshot[]
  /** Pass as `cursor` for the next page; `null` on the last page. */
  readonly nextCursor: string | null
}

/** The largest page `list` returns. */
export const MAX_LIST_LIMIT = 1_000
/** Default page size of `list` and `history`. */
export const DEFAULT_LIST_LIMIT = 100

/** Tasks abandoned by `close()`, grouped by name and spawn site. */
export interface AbandonedGroup {
  readonly name: string
  readonly site: string | null
  readonly count: number
  /** Never started: dropped with reason `shutdown`. */
  readonly dropped: number
  /** Were running at the drain deadline: aborted with reason `shutdown`. */
  readonly aborted: number
  /**
   * Had already been given up on (deadline, cancel) when the drain began, or were while it ran: not
   * waited for, ended at once.
   */
  readonly givenUp: number
  /** Ended without their function settling (given up, or ignored the shutdown abort for `abortGrace`). */
  readonly unsettled: number
  /** Age (since spawn) of the oldest of them when the drain gave up, in ms. */
  readonly oldestAgeMs: number
}

/** What `close()` resolves with. */
export interface CloseReport {
  /** `true` when every task finished on its own before the deadline. */
  readonly clean: boolean
  readonly durationMs: number
  /** Tasks that reached each outcome while closing (including those aborted by the close). */
  readonly finished: Readonly<Record<Outcome, number>>
  /** Totals over `abandoned`. */
  readonly dropped: number
  readonly aborted: number
  readonly givenUp: number
  readonly unsettled: number
  /** Sorted by count, largest first. */
  readonly abandoned: readonly AbandonedGroup[]
}
