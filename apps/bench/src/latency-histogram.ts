/**
 * Response latencies in fixed 10 µs buckets up to 1 s (slower ones share an overflow bucket).
 * autocannon's own histogram keeps whole milliseconds, too coarse for a ~1 ms hello world.
 */
const BUCKETS_PER_MS = 100
const BUCKETS = 1000 * BUCKETS_PER_MS

export class LatencyHistogram {
  readonly #counts = new Uint32Array(BUCKETS + 1)
  #total = 0

  record(ms: number): void {
    this.#counts[Math.min(BUCKETS, Math.floor(ms * BUCKETS_PER_MS))]!++
    this.#total++
  }

  /** The upper edge, in ms, of the bucket holding the `p`-th percentile (0 < p ≤ 100); 1000 means ≥ 1 s. */
  percentile(p: number): number {
    if (this.#total === 0) throw new Error('percentile of no samples')
    const rank = Math.ceil((p / 100) * this.#total)
    let seen = 0
    let bucket = 0
    for (; bucket < BUCKETS; bucket++) {
      seen += this.#counts[bucket]!
      if (seen >= rank) break
    }
    return Math.min(bucket + 1, BUCKETS) / BUCKETS_PER_MS
  }
}
