import type { Clock } from '../clock.js'
import type { TaskHandle } from '../task.js'

/** How often a schedule spawns its task (`scheduler.repeat()`). */
export interface RepeatOptions {
  /** Milliseconds between two spawns, from 1 to 2 147 483 647. */
  readonly every: number
  /** Spawn once at once too, rather than first after `every`. @default false */
  readonly immediately?: boolean
}

/** A schedule as `scheduler.schedules()` and `/debug/tasks` show it. */
export interface ScheduleState {
  readonly id: string
  /** The task it spawns. */
  readonly name: string
  readonly every: number
  /** Until the next spawn; `null` once stopped. */
  readonly nextInMs: number | null
  /** Tasks it spawned. */
  readonly spawned: number
  /** Times it came round while its previous task was still live: nothing was spawned (runs never overlap). */
  readonly skipped: number
  /** Spawns the scheduler refused (queue full, overloaded). */
  readonly refused: number
  /** The id of the last task it spawned, or `null`. */
  readonly lastTaskId: string | null
}

/** What `scheduler.repeat()` returns. */
export interface RepeatHandle {
  readonly id: string
  /** Stops the schedule (a task it spawned runs on). Returns `false` if it was already stopped or replaced. */
  stop(): boolean
}

/** What a schedule does at each turn: spawns, or tells why not. */
export type ScheduleFire = () => { readonly task: TaskHandle | undefined; readonly joined: boolean }

/**
 * One repeating schedule, on the scheduler's clock. Its timer does not hold the process open (a
 * schedule repeats for ever; a server's own handles keep it running).
 */
export class RepeatSchedule {
  readonly id: string
  readonly name: string
  readonly every: number
  readonly #clock: Clock
  readonly #fire: ScheduleFire
  #timer: unknown = undefined
  #nextAt = NaN
  #spawned = 0
  #skipped = 0
  #refused = 0
  #lastTaskId: string | null = null

  constructor(id: string, name: string, options: Required<RepeatOptions>, clock: Clock, fire: ScheduleFire) {
    this.id = id
    this.name = name
    this.every = options.every
    this.#clock = clock
    this.#fire = fire
    if (options.immediately) this.#turn()
    else this.#arm(this.#clock.now())
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
    return {
      id: this.id,
      name: this.name,
      every: this.every,
      nextInMs: this.stopped ? null : Math.max(0, this.#nextAt - now),
      spawned: this.#spawned,
      skipped: this.#skipped,
      refused: this.#refused,
      lastTaskId: this.#lastTaskId,
    }
  }

  #arm(from: number): void {
    this.#nextAt = from + this.every
    this.#timer = this.#clock.setTimeout(() => this.#turn(), this.every)
  }

  #turn(): void {
    const now = this.#clock.now()
    this.#arm(now)
    const { task, joined } = this.#fire()
    if (task === undefined) this.#refused++
    else if (joined) this.#skipped++
    else {
      this.#spawned++
      this.#lastTaskId = task.id
    }
  }
}
