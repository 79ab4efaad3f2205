import type { ManualClock } from '../src/testing.js'

/**
 * A dependency with a capacity, on a manual clock: up to `capacity` calls are served at once, the
 * rest wait in its own FIFO, and while more than `capacity` calls are in it (served or waiting) a
 * call's service takes twice `serviceMs` (overload makes it slower), each ±25 %. Its throughput is highest with
 * exactly `capacity` calls in flight.
 */
export class SimulatedDependency {
  capacity: number
  readonly serviceMs: number
  readonly #clock: ManualClock
  #serving = 0
  readonly #waiting: (() => void)[] = []
  completed = 0

  readonly #random: () => number

  /** `random` (seeded) spreads each service time by ±25 %, as real calls vary. */
  constructor(clock: ManualClock, capacity: number, serviceMs: number, random: () => number) {
    this.#clock = clock
    this.capacity = capacity
    this.serviceMs = serviceMs
    this.#random = random
  }

  /** Calls in it, served or waiting. */
  get inFlight(): number {
    return this.#serving + this.#waiting.length
  }

  call(): Promise<void> {
    return new Promise<void>((resolve) => {
      const serve = (): void => {
        this.#serving++
        const base = this.inFlight > this.capacity ? 2 * this.serviceMs : this.serviceMs
        const ms = Math.round(base * (0.75 + 0.5 * this.#random()))
        this.#clock.setTimeout(() => {
          this.#serving--
          this.completed++
          resolve()
          if (this.#waiting.length > 0 && this.#serving < this.capacity) this.#waiting.shift()!()
        }, ms)
      }
      if (this.#serving < this.capacity) serve()
      else this.#waiting.push(serve)
    })
  }
}

/**
 * Lets what a step of the manual clock set off run: promise callbacks chained on settled calls, and
 * the scheduler's turn boundary (it starts at most a slice of tasks per turn of the event loop).
 */
export function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve))
}
