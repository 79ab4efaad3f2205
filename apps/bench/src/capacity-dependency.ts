/**
 * A simulated dependency with a capacity, for the capacity scenario of the limits benchmark: it
 * serves up to `capacity` calls at once, each for `baseMs`; further calls wait in its own FIFO. A
 * call is served for twice `baseMs` when it starts while more than `capacity` calls are in the
 * dependency (served or waiting): an overloaded dependency slows down. Its throughput is highest
 * with exactly `capacity` calls in flight: `capacity / baseMs`, and half that beyond. Calls honour an
 * `AbortSignal`.
 */

interface Call {
  readonly resolve: () => void
  readonly reject: (reason: unknown) => void
  readonly signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
  timer: NodeJS.Timeout | undefined
}

export class CapacityDependency {
  readonly baseMs: number
  #capacity: number
  #serving = 0
  /** Calls waiting to be served, oldest first, from `#head` on. */
  #waiting: (Call | undefined)[] = []
  #head = 0
  #waitingCount = 0

  constructor(capacity: number, baseMs: number) {
    this.#capacity = capacity
    this.baseMs = baseMs
  }

  /** Calls served at once. Settable: more starts waiting calls now; fewer lets the calls being served finish. */
  get capacity(): number {
    return this.#capacity
  }

  set capacity(value: number) {
    this.#capacity = value
    this.#serveWaiting()
  }

  /** Calls in the dependency now: served and waiting. */
  get inFlight(): number {
    return this.#serving + this.#waitingCount
  }

  call(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(signal.reason as Error)
        return
      }
      const call: Call = { resolve, reject, signal, onAbort: undefined, timer: undefined }
      if (signal !== undefined) {
        call.onAbort = () => this.#abort(call)
        signal.addEventListener('abort', call.onAbort, { once: true })
      }
      if (this.#serving < this.#capacity && this.#waitingCount === 0) this.#serve(call)
      else {
        this.#waiting.push(call)
        this.#waitingCount++
      }
    })
  }

  #serve(call: Call): void {
    this.#serving++
    const slow = this.inFlight > this.#capacity
    call.timer = setTimeout(
      () => {
        call.timer = undefined
        this.#serving--
        if (call.onAbort !== undefined) call.signal!.removeEventListener('abort', call.onAbort)
        call.resolve()
        this.#serveWaiting()
      },
      this.baseMs * (slow ? 2 : 1),
    )
  }

  #serveWaiting(): void {
    while (this.#serving < this.#capacity && this.#waitingCount > 0) {
      const next = this.#waiting[this.#head]
      this.#waiting[this.#head++] = undefined
      if (next === undefined) continue
      this.#waitingCount--
      this.#serve(next)
    }
    if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head)
      this.#head = 0
    }
  }

  #abort(call: Call): void {
    if (call.timer !== undefined) {
      clearTimeout(call.timer)
      call.timer = undefined
      this.#serving--
      this.#serveWaiting()
    } else {
      const at = this.#waiting.indexOf(call, this.#head)
      if (at >= 0) {
        this.#waiting[at] = undefined
        this.#waitingCount--
      }
    }
    call.reject(call.signal!.reason)
  }
}
