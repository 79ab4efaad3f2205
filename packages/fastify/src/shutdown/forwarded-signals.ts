import type { Clock } from '@fastify-tasks/core'

/** What a SIGINT or SIGTERM asks for: `close` (the first), nothing (`duplicate`: a copy of the first), or `force` (a second one: exit now). */
export type SignalVerdict = 'close' | 'duplicate' | 'force'

/**
 * Tells one Ctrl-C delivered twice from a second one. A process manager that runs the server (`npm
 * start`, `pnpm run`, `pnpm --filter … start`) forwards the terminal's Ctrl-C to it, so one Ctrl-C
 * arrives twice (sometimes as SIGINT then SIGTERM), milliseconds apart. Counted as a second signal,
 * it would force the exit and skip the drain. A repeat within `windowMs` of the first (on `clock`) is
 * that copy; a later one is a person insisting.
 */
export class ForwardedSignals {
  readonly #clock: Clock
  readonly #windowMs: number
  #first: { readonly signal: NodeJS.Signals; readonly at: number } | undefined

  constructor(clock: Clock, windowMs: number) {
    this.#clock = clock
    this.#windowMs = windowMs
  }

  /** The first signal received, if any. */
  get first(): NodeJS.Signals | undefined {
    return this.#first?.signal
  }

  /** Records a signal and says what it asks for, and how long after the first it came (ms). */
  receive(signal: NodeJS.Signals): { readonly verdict: SignalVerdict; readonly afterMs: number } {
    const now = this.#clock.now()
    if (this.#first === undefined) {
      this.#first = { signal, at: now }
      return { verdict: 'close', afterMs: 0 }
    }
    const afterMs = now - this.#first.at
    return { verdict: afterMs < this.#windowMs ? 'duplicate' : 'force', afterMs }
  }
}
