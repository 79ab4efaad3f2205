/**
 * What the queued-server scenario's server (`queued-server.ts`) says, besides what `http-protocol.ts`
 * describes (it prints its port once listening, and closes and exits when stdin ends; the load
 * generator is `http-load.ts`): each `stats` line on stdin is answered with a `QueuedServerStats` line
 * as JSON.
 */

export const STATS_COMMAND = 'stats'

export interface QueuedServerStats {
  /** `process.cpuUsage()`: cumulative µs. */
  readonly user: number
  readonly system: number
  /** Now: tasks waiting for a slot, and running. */
  readonly pending: number
  readonly running: number
}

export const QUEUED_SERVER_STATS_KEYS = ['user', 'system', 'pending', 'running'] as const
