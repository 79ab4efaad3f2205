import type { Clock } from '../clock.js'
import type { TaskHandle } from '../task.js'
import type { CronPattern } from './cron-pattern.js'

/**
 * When a schedule spawns its task (`scheduler.repeat()`): every `every` ms, or at the times a cron
 * pattern gives. Exactly one of `every` and `cron`.
 */
export type RepeatOptions = RepeatEvery | RepeatCron

/** A schedule at a fixed interval. */
export interface RepeatEvery {
  /** Milliseconds between two spawns, from 1 to 2 147 483 647. */
  readonly every: number
  /** Spawn once at once too, rather than first after `every`. @default false */
  readonly immediately?: boolean
  readonly cron?: undefined
  readonly tz?: undefined
}

/** A schedule at the times of a cron pattern (parsed by `cron-parser`, as BullMQ's job schedulers do). */
export interface RepeatCron {
  /**
   * A cron pattern of 5 or 6 fields, `[second] minute hour day-of-month month day-of-week`
   * (`'0 3 * * *'`: at 03:00 every day), or a macro (`'@hourly'`, `'@daily'`, `'@weekly'`…).
   */
  readonly cron: string
  /** The IANA time zone the pattern's times are in (`'Europe/Paris'`). @default the process's time zone */
  readonly tz?: string
  /** Spawn once at once too, rather than first at the pattern's next time. @default false */
  readonly immediately?: boolean
  readonly every?: undefined
}

/** A schedule as `scheduler.schedules()`, `scheduler.backendSchedules()` and `/debug/tasks` show it. */
export interface ScheduleState {
  readonly id: string
  /** The task it spawns. */
  readonly name: string
  /** Its interval in ms, or `null` for a cron schedule. */
  readonly every: number | null
  /** Its cron pattern, or `null` for an interval. */
  readonly cron: string | null
  /** The time zone of its cron pattern, or `null` for the process's own (and for an interval). */
  readonly tz: string | null
  /** Until the next spawn; `null` once stopped (or when the broker does not know). */
  readonly nextInMs: number | null
  /** Tasks it spawned (on a durable backend: jobs the broker made of it). */
  readonly spawned: number
  /**
   * Times it came round while its previous task was still live: nothing was spawned (runs never
   * overlap). `null` on a durable backend, whose schedules do not skip (see the guide).
   */
  readonly skipped: number | null
  /** Spawns the scheduler refused (queue full, overloaded). `null` on a durable backend. */
  readonly refused: number | null
  /** The id of the last task it spawned, or `null` (always on a durable backend: the broker does not say). */
  readonly lastTaskId: string | null
  /** Where it lives: `memory` (this process), or the durable backend's kind (`bullmq`: shared by every replica). */
  readonly where: string
}

/** What `scheduler.repeat()` returns. */
export interface RepeatHandle {
  readonly id: string
  /**
   * Resolves once the schedule is in place: at once in memory; on a durable backend, once the broker
   * acknowledged it (it then survives restarts and is shared by every replica). Rejects with
   * `BackendUnavailableError` otherwise. Handled: not awaiting it raises no `unhandledRejection`.
   */
  readonly admitted: Promise<void>
  /**
   * Stops the schedule (a task it spawned runs on). Returns `false` if it was already stopped or
   * replaced. On a durable backend it removes the schedule from the broker, for every replica
   * (`scheduler.unschedule(id)` does the same and says when it is done).
   */
  stop(): boolean
}

/** When a schedule comes round: a fixed interval, or a cron pattern read on the wall clock. */
export type Cadence = { readonly every: number } | { readonly cron: CronPattern }

/** What a schedule does at each turn: spawns, or tells why not. */
export type ScheduleFire = () => { readonly task: TaskHandle | undefined; readonly joined: boolean }

/**
 * One repeating schedule, on the scheduler's clock. Its timer does not hold the process open (a
 * schedule repeats for ever; a server's own handles keep it running).
 */
export class RepeatSchedule {
  readonly id: string
  readonly name: string
  readonly cadence: Cadence
  readonly #clock: Clock
  readonly #fire: ScheduleFire
  #timer: unknown = undefined
  #nextAt = NaN
  #spawned = 0
  #skipped = 0
  #refused = 0
  #lastTaskId: string | null = null

  /** The wall-clock time of the cron pattern's turn armed for, so that a timer firing early cannot repeat it. */
  #lastCronAt = -Infinity

  constructor(id: string, name: string, cadence: Cadence, immediately: boolean, clock: Clock, fire: ScheduleFire) {
    this.id = id
    this.name = name
    this.cadence = cadence
    this.#clock = clock
    this.#fire = fire
    if (immediately) this.#turn()
    else this.#arm()
  }

  get stopped(): boolean {
    return Number.isNaN(this.#nextAt)
  }

  stop(): boolean {
    if (this.stopped) return false
    this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#nextAt = NaN
    return true
  }

  state(now: number): ScheduleState {
    const cron = 'cron' in this.cadence ? this.cadence.cron : undefined
    return {
      id: this.id,
      name: this.name,
      every: 'every' in this.cadence ? this.cadence.every : null,
      cron: cron?.pattern ?? null,
      tz: cron?.tz ?? null,
      nextInMs: this.stopped ? null : Math.max(0, Math.round(this.#nextAt - now)),
      spawned: this.#spawned,
      skipped: this.#skipped,
      refused: this.#refused,
      lastTaskId: this.#lastTaskId,
      where: 'memory',
    }
  }

  /** Sets the timer of the next turn. */
  #arm(): void {
    const now = this.#clock.now()
    if ('every' in this.cadence) {
      this.#nextAt = now + this.cadence.every
      this.#timer = this.#clock.setTimeout(() => this.#turn(), this.cadence.every)
      return
    }
    // eslint-disable-next-line no-restricted-properties -- a cron pattern's times are wall-clock times
    const wall = this.#clock.wallTime?.() ?? Date.now()
    const at = this.cadence.cron.next(Math.max(wall, this.#lastCronAt))
    const wait = Math.max(0, at - wall)
    this.#nextAt = now + wait
    if (wait > MAX_TIMER) {
      // Further than a timer reaches (≈ 24.8 days): wake up on the way and look again.
      this.#timer = this.#clock.setTimeout(() => this.#arm(), MAX_TIMER)
      return
    }
    this.#lastCronAt = at
    this.#timer = this.#clock.setTimeout(() => this.#turn(), wait)
  }

  #turn(): void {
    this.#arm()
    const { task, joined } = this.#fire()
    if (task === undefined) this.#refused++
    else if (joined) this.#skipped++
    else {
      this.#spawned++
      this.#lastTaskId = task.id
    }
  }
}

/** The longest wait a Node timer takes. */
const MAX_TIMER = 2_147_483_647
