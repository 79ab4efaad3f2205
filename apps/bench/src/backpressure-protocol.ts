/**
 * What the backpressure benchmark's server (`backpressure-server.ts`) says, besides what
 * `http-protocol.ts` describes (it prints its port once listening, and closes and exits when stdin
 * ends; the load generator is `http-load.ts`): each `stats` line on stdin is answered with a
 * `ServerStats` line as JSON.
 */

export const STATS_COMMAND = 'stats'

/** The path the load generator requests: a small JSON body, answered at once. */
export const LIGHT_PATH = '/light'

/** One reading of the server. Counts are cumulative unless said otherwise. */
export interface ServerStats {
  /** `performance.eventLoopUtilization()`: active and idle ms since the event loop started. */
  readonly eluActiveMs: number
  readonly eluIdleMs: number
  /** Event-loop delay since the previous reading (the histogram is reset by each one), ms. */
  readonly delayP99Ms: number
  readonly delayMaxMs: number
  /** The producer's spawn attempts, and those refused by reason (0 without a producer). */
  readonly offered: number
  readonly overloaded: number
  readonly queueFull: number
  /** The scheduler's counts (`app.tasks.summary()`). */
  readonly deferred: number
  readonly completed: number
  /** Tasks that ended otherwise: failed, timed out, cancelled or dropped (any fails the bench). */
  readonly notCompleted: number
  /** Now: tasks waiting for a slot, and the running limit (adaptive concurrency moves it). */
  readonly pending: number
  readonly concurrency: number
}

export const SERVER_STATS_KEYS = [
  'eluActiveMs',
  'eluIdleMs',
  'delayP99Ms',
  'delayMaxMs',
  'offered',
  'overloaded',
  'queueFull',
  'deferred',
  'completed',
  'notCompleted',
  'pending',
  'concurrency',
] as const
