import type { Registry } from 'prom-client'
import { braces, defaultLabelText, RENDER, type DefaultLabels, type SelfRenderingMetric } from './exposition.js'
import type { ExpositionBuffer } from './exposition-buffer.js'
import { labelPair, metricHeader } from './prometheus-text.js'

/** The reset count of a {@link FastHistogram}, shared with its series. */
interface Generation {
  current: number
}

/**
 * One labelled series of a {@link FastHistogram}: observe into it directly on hot paths. A series
 * stays valid across a reset of its histogram: it belongs to the generation it was last zeroed in,
 * and its first observation after a reset zeroes it again, so callers may keep it for good.
 */
export class HistogramSeries {
  readonly labels: Readonly<Record<string, string>>
  /** Its label pairs, escaped once: `task="…",outcome="…"`. */
  readonly labelText: string
  /** The ends of its lines, encoded once per set of default labels (see {@link FastHistogram}'s rendering). */
  #ends: { bucketExtra: string; otherExtra: string; bucket: Buffer; other: Buffer } | undefined
  readonly #bounds: readonly number[]
  readonly #histogram: Generation
  #generation: number
  /** counts[i]: observations in (bounds[i-1], bounds[i]]; the last slot is above every bound. */
  readonly counts: Float64Array
  sum = 0
  count = 0

  constructor(labels: Readonly<Record<string, string>>, bounds: readonly number[], generation: Generation) {
    this.labels = labels
    this.labelText = Object.entries(labels)
      .map(([name, value]) => labelPair(name, value))
      .join(',')
    this.#bounds = bounds
    this.#histogram = generation
    this.#generation = generation.current
    this.counts = new Float64Array(bounds.length + 1)
  }

  /**
   * What follows the name (and `le`) in its lines, the registry's default labels included:
   * `,task="…",outcome="…"<bucketExtra>} ` after `_bucket{le="…"`, and `{task="…",outcome="…"<otherExtra>} `
   * after `_sum` and `_count` (which have no `le` of their own, so a default `le` shows there).
   */
  ends(bucketExtra: string, otherExtra: string): { bucket: Buffer; other: Buffer } {
    const ends = this.#ends
    if (ends !== undefined && ends.bucketExtra === bucketExtra && ends.otherExtra === otherExtra) return ends
    const own = this.labelText
    this.#ends = {
      bucketExtra,
      otherExtra,
      bucket: Buffer.from(`${own === '' ? '' : `,${own}`}${bucketExtra}} `),
      other: Buffer.from(`${braces(own, otherExtra)} `),
    }
    return this.#ends
  }

  /** False once its histogram was reset, until it is observed (or looked up) again. */
  get current(): boolean {
    return this.#generation === this.#histogram.current
  }

  observe(value: number): void {
    if (this.#generation !== this.#histogram.current) this.restart()
    const bounds = this.#bounds
    let i = 0
    while (i < bounds.length && value > bounds[i]!) i++
    this.counts[i]!++
    this.sum += value
    this.count++
  }

  /** Zeroes the series and makes it part of its histogram's current generation. */
  restart(): void {
    this.counts.fill(0)
    this.sum = 0
    this.count = 0
    this.#generation = this.#histogram.current
  }
}

/** What prom-client's registry reads from a metric (its `get()` result). */
interface MetricData {
  name: string
  help: string
  type: 'histogram'
  aggregator: 'sum'
  values: { labels: Record<string, string | number>; value: number; metricName: string }[]
}

/**
 * A Prometheus histogram for hot paths. prom-client's `observe` hashes its label object on every call
 * (a visible share of a request's cost, three times per request with a task); here a caller keeps the {@link HistogramSeries}
 * of its label values and an observation is a bucket search and three additions. It registers in a
 * prom-client `Registry` like prom-client's own metrics (same `get()` contract), and renders its own
 * text for the `/metrics` route (see `exposition.ts`), in prom-client's spelling and order.
 *
 * A reset (prom-client's `registry.resetMetrics()`, or `reset()`) does not drop the series objects
 * callers hold: it starts a new generation, and a series shows in the exposition again once it is
 * observed in it. The map of series is therefore never pruned; it is bounded by the label values
 * callers use (task names are capped, routes come from the route table).
 */
export class FastHistogram implements SelfRenderingMetric {
  readonly name: string
  readonly help: string
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  readonly labelNames: readonly string[]
  readonly probe: string
  readonly #bounds: readonly number[]
  readonly #series = new Map<string, HistogramSeries>()
  readonly #generation: Generation = { current: 0 }
  readonly #header: string
  /** `\n<name>_bucket{le="<bound>"`, one per bound, then the one of `+Inf`, encoded. */
  readonly #bucketHeads: readonly Buffer[]
  /** `\n<name>_sum` and `\n<name>_count`, encoded. */
  readonly #sumHead: Buffer
  readonly #countHead: Buffer

  constructor(options: {
    name: string
    help: string
    labelNames: readonly string[]
    buckets: readonly number[]
    /** A label-less metric registered beside it, for the registry's default labels ({@link SelfRenderingMetric.probe}). */
    probe: string
    registry: Registry
  }) {
    this.name = options.name
    this.help = options.help
    this.labelNames = options.labelNames
    this.probe = options.probe
    this.#bounds = [...options.buckets]
    this.#header = metricHeader(this.name, this.help, this.type)
    this.#bucketHeads = [...this.#bounds.map((bound) => `${bound}`), '+Inf'].map((le) => Buffer.from(`\n${this.name}_bucket{le="${le}"`))
    this.#sumHead = Buffer.from(`\n${this.name}_sum`)
    this.#countHead = Buffer.from(`\n${this.name}_count`)
    // The registry's public registration method; it only needs name, get() and reset().
    options.registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0])
  }

  /**
   * The series for these label values (one string per label name, in order), made on first use;
   * the same object every time, across resets too.
   */
  series(values: readonly string[]): HistogramSeries {
    const key = values.length === 1 ? values[0]! : values.join('\u0000')
    let series = this.#series.get(key)
    if (series === undefined) {
      const labels: Record<string, string> = {}
      this.labelNames.forEach((name, i) => (labels[name] = values[i]!))
      series = new HistogramSeries(labels, this.#bounds, this.#generation)
      this.#series.set(key, series)
    } else if (!series.current) {
      series.restart()
    }
    return series
  }

  /** Number of labelled series in the exposition (those made or observed since the last reset). */
  get size(): number {
    let size = 0
    for (const series of this.#series.values()) if (series.current) size++
    return size
  }

  get(): Promise<MetricData> {
    const values: MetricData['values'] = []
    const bucket = `${this.name}_bucket`
    for (const series of this.#series.values()) {
      if (!series.current) continue
      let cumulative = 0
      this.#bounds.forEach((bound, i) => {
        cumulative += series.counts[i]!
        values.push({ labels: { le: bound, ...series.labels }, value: cumulative, metricName: bucket })
      })
      values.push({ labels: { le: '+Inf', ...series.labels }, value: series.count, metricName: bucket })
      values.push({ labels: { ...series.labels }, value: series.sum, metricName: `${this.name}_sum` })
      values.push({ labels: { ...series.labels }, value: series.count, metricName: `${this.name}_count` })
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values })
  }

  *[RENDER](out: ExpositionBuffer, defaults: DefaultLabels): Generator<void> {
    out.text(this.#header)
    const heads = this.#bucketHeads
    const inf = heads.length - 1
    // prom-client writes `le` first, then the series' labels, then the registry's default labels.
    const bucketExtra = defaultLabelText(defaults, ['le', ...this.labelNames])
    const otherExtra = defaultLabelText(defaults, this.labelNames)
    for (const series of this.#series.values()) {
      if (!series.current) continue
      const ends = series.ends(bucketExtra, otherExtra)
      const counts = series.counts
      let cumulative = 0
      for (let i = 0; i < inf; i++) {
        cumulative += counts[i]!
        out.bytes(heads[i]!)
        out.bytes(ends.bucket)
        out.number(cumulative)
      }
      out.bytes(heads[inf]!)
      out.bytes(ends.bucket)
      out.number(series.count)
      out.bytes(this.#sumHead)
      out.bytes(ends.other)
      out.number(series.sum)
      out.bytes(this.#countHead)
      out.bytes(ends.other)
      out.number(series.count)
      yield
    }
  }

  /**
   * Forgets every observation and hides every series until it is observed again (prom-client's
   * `registry.resetMetrics()` calls it). Series objects stay valid: each zeroes itself on first use.
   */
  reset(): void {
    this.#generation.current++
  }
}
