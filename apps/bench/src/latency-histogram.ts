/**
 * Response latencies in fixed buckets up to 1 s (slower ones share an overflow bucket): 10 µs by
 * default, 1 µs at 1000 buckets per ms. autocannon's own histogram keeps whole milliseconds, too
 * coarse for a ~1 ms hello world; the latency it reports per response is finer (from `hrtime`).
 */
export const DEFAULT_BUCKETS_PER_MS = 100
/** The finest resolution: 1 µs (a million buckets, 4 MB). */
export const MAX_BUCKETS_PER_MS = 1000

export class LatencyHistogram {
  readonly #bucketsPerMs: number
  readonly #buckets: number
  readonly #counts: Uint32Array
  #total = 0

  constructor(bucketsPerMs: number = DEFAULT_BUCKETS_PER_MS) {
    if (!Number.isInteger(bucketsPerMs) || bucketsPerMs < 1 || bucketsPerMs > MAX_BUCKETS_PER_MS) {
      throw new Error(`LatencyHistogram: buckets per ms must be an integer from 1 to ${MAX_BUCKETS_PER_MS}, got ${bucketsPerMs}`)
    }
    this.#bucketsPerMs = bucketsPerMs
    this.#buckets = 1000 * bucketsPerMs
    this.#counts = new Uint32Array(this.#buckets + 1)
  }

  record(ms: number): void {
    this.#counts[Math.min(this.#buckets, Math.floor(ms * this.#bucketsPerMs))]!++
    this.#total++
  }

  /** The upper edge, in ms, of the bucket holding the `p`-th percentile (0 < p ≤ 100); 1000 means ≥ 1 s. */
  percentile(p: number): number {
    if (this.#total === 0) throw new Error('percentile of no samples')
    const rank = Math.ceil((p / 100) * this.#total)
    let seen = 0
    let bucket = 0
    for (; bucket < this.#buckets; bucket++) {
      seen += this.#counts[bucket]!
      if (seen >= rank) break
    }
    return Math.min(bucket + 1, this.#buckets) / this.#bucketsPerMs
  }
}
