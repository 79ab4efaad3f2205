import type { Outcome, RejectReason, Release } from '@fastify-tasks/core'
import type { HistogramSeries } from './fast-histogram.js'
import { labelPair } from './prometheus-text.js'

/** The values of the `outcome` label, in the order of {@link TaskCounts.finished}. */
export const OUTCOMES: readonly Outcome[] = ['completed', 'failed', 'cancelled', 'timed_out', 'dropped']
/** The values of the `reason` label, in the order of {@link TaskCounts.rejected}. */
export const REJECT_REASONS: readonly RejectReason[] = ['queue_full', 'overloaded', 'closing', 'unavailable']
/** The values of the `release` label, in the order of {@link TaskCounts.released}. */
export const RELEASES: readonly Release[] = ['evicted', 'expired', 'closed']

/**
 * The counts of one `task` label value, which the task counters read at scrape time (plain fields
 * on the hot path; a counter's reset zeroes its own), and the name's histogram series, looked up
 * once (a series stays valid across a reset of its histogram).
 */
export class TaskCounts {
  /** The `task` label value. */
  readonly task: string
  /** `task="…"`, escaped and encoded once for every line that carries it. */
  readonly labelBytes: Buffer
  spawned = 0
  leaked = 0
  hung = 0
  abandoned = 0
  late = 0
  retries = 0
  /** By {@link OUTCOMES} index. */
  readonly finished = [0, 0, 0, 0, 0]
  /** By {@link REJECT_REASONS} index. */
  readonly rejected = [0, 0, 0, 0]
  /** Given-up tasks released without settling, by {@link RELEASES} index. */
  readonly released = [0, 0, 0]
  readonly queueWait: HistogramSeries
  /** By {@link OUTCOMES} index, made on first use. */
  readonly duration: (HistogramSeries | undefined)[] = [undefined, undefined, undefined, undefined, undefined]

  constructor(task: string, queueWait: HistogramSeries) {
    this.task = task
    this.labelBytes = Buffer.from(labelPair('task', task))
    this.queueWait = queueWait
  }
}
