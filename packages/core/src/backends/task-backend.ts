import type { CancelReason, Settlement, TaskHandle } from '../task.js'
import type { Priority } from '../priority.js'
import type { RateLimit } from '../limits/limits-options.js'

/**
 * Where named tasks are kept and run: the seam between the scheduler and a durable engine. Without a
 * backend (the default) the scheduler is the in-memory backend itself. With one, `spawn(definition,
 * payload)` hands the task to it (`enqueue`), and the tasks it hands back (`host.run`) run here as
 * tracked tasks, with their deadlines, limits, inspection and drain.
 *
 * An implementation owns its connections; the scheduler calls `attach` once when it is made and
 * `stopConsuming` then `close` when it closes. Every method must return promptly whatever its broker
 * does: `enqueue` rejects within a bounded time, and `close` resolves within its budget.
 */
export interface TaskBackend {
  /** A short name, shown in summaries and error messages, e.g. `bullmq`. */
  readonly kind: string
  /**
   * Whether it holds the rate limits of `limits.rate` across every process (it asks
   * `host.rateLimit(name)` before handing a task over). The scheduler then only counts the starts
   * of a rate-limited name, and holds none back itself. Without it, each process holds its own.
   */
  readonly holdsRateLimits?: boolean
  /** Called once, by the scheduler's constructor: the backend consumes through `host`. */
  attach(host: BackendHost): void
  /**
   * Persists `task`. Resolves once the broker acknowledged it (from then on it will run, at least
   * once): with nothing, or with the id of the live task of the same `key` it joined instead. Rejects,
   * with any error, when it did not. Must settle within a bounded time.
   */
  enqueue(task: OutgoingTask): Promise<string | undefined | void>
  /**
   * Cancels the task with this id, as far as the backend can reach: `cancelled` when it was still
   * waiting and is removed (it ended there, `cancelled`), `aborting` when it runs and was asked to
   * stop (its outcome will tell), `not_found` when the backend could do neither.
   */
  cancel(id: string, reason: CancelReason): Promise<BackendCancel>
  /** Whether the backend can reach its broker now (a spawn would be admitted). Synchronous: no round trip. */
  connected(): boolean
  /**
   * The broker's tasks by state across every process (`waiting`, `delayed`, `active`…, as the
   * broker names them): counts, never a scan. Rejects when the broker does not answer in time.
   */
  jobCounts(): Promise<Readonly<Record<string, number>>>
  /** Follows the task with this id to its end. May cost a subscription; called only when someone asks. */
  watch(id: string, name: string): Promise<Settlement>
  /**
   * Stops (`true`) or starts again (`false`) taking tasks to run, for a while: the process is
   * overloaded. Called on every change, possibly more often. Tasks already taken keep running.
   */
  pauseConsuming(paused: boolean): void
  /** Stops taking tasks to run for good (the first step of a close). Synchronous: it must not need the broker. */
  stopConsuming(): void
  /** Releases everything it holds. Resolves within `budgetMs` whatever the broker does. */
  close(budgetMs: number): Promise<void>
  /**
   * Optional (without it, `repeat()` is refused on this backend): keeps `schedule` in the broker,
   * replacing the schedule of the same id, for every process and across restarts; the broker spawns
   * its task at its times. Resolves once the broker acknowledged it; rejects, within a bounded time,
   * when it did not.
   */
  schedule?(schedule: OutgoingSchedule): Promise<void>
  /** Removes the schedule of this id from the broker. Resolves `true` if there was one. Bounded as `schedule`. */
  unschedule?(id: string): Promise<boolean>
  /**
   * The broker's schedules, at most `limit`, the soonest due first, and how many it keeps in all.
   * Rejects when the broker does not answer in time.
   */
  schedules?(limit: number): Promise<{ readonly schedules: readonly BackendSchedule[]; readonly total: number }>
}

/** A schedule of a named task on its way to a backend (`scheduler.repeat()`). */
export interface OutgoingSchedule {
  /** The schedule's id: letters, digits, `.`, `_` and `-`, 1 to 128 of them. */
  readonly id: string
  /** The task it spawns, and the payload of each spawn as JSON text (the empty string for none), already validated. */
  readonly name: string
  readonly payload: string
  readonly priority: Priority
  /** The deadline of each run, in ms; `Infinity` for none. */
  readonly timeout: number
  /** Runs of each spawn in all: the definition's `retries` + 1. */
  readonly attempts: number
  /** Exactly one of `every` (ms) and `cron` (a pattern, in time zone `tz`, `null` for the process's own). */
  readonly every: number | null
  readonly cron: string | null
  readonly tz: string | null
  /** Spawn once at once too. */
  readonly immediately: boolean
  /** Given to each spawn (`{ schedule: id }`). */
  readonly meta: Readonly<Record<string, string | number | boolean>>
}

/** A schedule as the broker keeps it. */
export interface BackendSchedule {
  readonly id: string
  readonly name: string
  readonly every: number | null
  readonly cron: string | null
  readonly tz: string | null
  /** When it next spawns, in wall-clock ms since the epoch, or `null` when the broker has no next time. */
  readonly nextAt: number | null
  /** Spawns made so far. */
  readonly spawned: number
}

/** What {@link TaskBackend.cancel} did. */
export type BackendCancel = 'cancelled' | 'aborting' | 'not_found'

/** What a backend may ask of the scheduler it is attached to. */
export interface BackendHost {
  /**
   * Runs `task` in this process, as a tracked task: started now when its name's limit allows, else
   * queued. It bypasses the admission check and `maxQueue` (the backend bounds how many it hands
   * over), not the deadline. Throws `UnknownTaskError` when this process has no definition of that
   * name, and `ClosingError` once the scheduler is closing.
   */
  run(task: IncomingTask): TaskHandle
  /** The wait before attempt `failed + 1` of a task of `name`, from its definition's `backoff`. */
  retryDelay(name: string, failed: number): number
  /** Whether this process has a definition of `name`. */
  knows(name: string): boolean
  /**
   * The rate limit of `name` (`limits.rate`), if it has one: at most `max` starts per `duration` ms.
   * The scheduler holds it in this process; a backend may hold it across every process too.
   */
  rateLimit(name: string): RateLimit | undefined
}

/** A named task on its way to a backend. */
export interface OutgoingTask {
  /** Made by the scheduler, unique: the job's id in the broker. */
  readonly id: string
  readonly name: string
  /** The payload as JSON text (the empty string for none), already validated. */
  readonly payload: string
  readonly priority: Priority
  /** The deadline of each run, in ms; `Infinity` for none. */
  readonly timeout: number
  /** Runs in all: the definition's `retries` + 1. */
  readonly attempts: number
  /** Ms before it may start; 0 for now. */
  readonly delay: number
  /**
   * Its key: while a task of that key is live, the spawn joins it (`join`), or cancels it with reason
   * `superseded` and takes its place (`replace`).
   */
  readonly key: string | undefined
  readonly onDuplicate: 'join' | 'replace'
  /** Its labels and meta (the route and request id of a request's task), for the process that runs it. */
  readonly labels: Readonly<Record<string, string>> | undefined
  readonly meta: Readonly<Record<string, string | number | boolean>> | undefined
}

/** A task a backend hands over to run here. */
export interface IncomingTask {
  readonly id: string
  readonly name: string
  readonly payload: string
  readonly priority: Priority
  readonly timeout: number
  /** Which run this is, from 1. */
  readonly attempt: number
  /** As the spawner gave them. */
  readonly labels?: Readonly<Record<string, string>> | undefined
  readonly meta?: Readonly<Record<string, string | number | boolean>> | undefined
}
