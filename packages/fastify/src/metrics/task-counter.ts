import type { Registry } from 'prom-client'
import { defaultLabelText, RENDER, type DefaultLabels, type SelfRenderingMetric } from './exposition.js'
import type { ExpositionBuffer } from './exposition-buffer.js'
import { labelPair, metricHeader } from './prometheus-text.js'
import type { TaskCounts } from './task-counts.js'

/** What prom-client's registry reads from a counter (its `get()` result). */
interface CounterData {
  name: string
  help: string
  type: 'counter'
  aggregator: 'sum'
  values: { labels: Record<string, string>; value: number }[]
}

/** Options of a {@link TaskCounter}. */
export interface TaskCounterOptions {
  readonly name: string
  readonly help: string
  /** The label after `task` and its values, in order; none: `task` alone. */
  readonly by?: { readonly label: string; readonly values: readonly string[] }
  /** The counts of every task label value, in the order their series are shown. */
  readonly counts: ReadonlyMap<string, TaskCounts>
  /** This counter's value in `counts` for the `i`th value of `by` (0 without `by`). */
  readonly read: (counts: TaskCounts, i: number) => number
  /** Zeroes this counter's values in `counts`. */
  readonly zero: (counts: TaskCounts) => void
  /** A label-less metric registered beside it, for the registry's default labels ({@link SelfRenderingMetric.probe}). */
  readonly probe: string
  readonly registry: Registry
}

/**
 * A Prometheus counter by `task` (and one more label with a closed set of values) whose values are
 * the plain per-name fields of {@link TaskCounts}: counting is an increment on the hot path, and a
 * scrape reads the fields, with nothing flushed. Every label combination of a known task name is a
 * series, at 0 until it happens (`increase()` over a series that appears at 1 reads 0, so an alert
 * on a task's first leak, failure or abandonment would never fire).
 *
 * It registers in a prom-client `Registry` like prom-client's own metrics (same `get()` contract),
 * and renders its own text for the `/metrics` route (see `exposition.ts`).
 */
export class TaskCounter implements SelfRenderingMetric {
  readonly name: string
  readonly help: string
  readonly type = 'counter'
  readonly aggregator = 'sum'
  readonly labelNames: readonly string[]
  readonly probe: string
  readonly #options: TaskCounterOptions
  readonly #header: string
  /** `\n<name>{`, encoded. */
  readonly #head: Buffer
  /** `,reason="queue_full"`…, one per value of `by`; `['']` without it. */
  readonly #tails: readonly string[]

  constructor(options: TaskCounterOptions) {
    this.name = options.name
    this.help = options.help
    this.probe = options.probe
    this.labelNames = options.by === undefined ? ['task'] : ['task', options.by.label]
    this.#options = options
    this.#header = metricHeader(this.name, this.help, this.type)
    this.#head = Buffer.from(`\n${this.name}{`)
    const by = options.by
    this.#tails = by === undefined ? [''] : by.values.map((value) => `,${labelPair(by.label, value)}`)
    // The registry's public registration method; it only needs name, get() and reset().
    options.registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0])
  }

  get(): Promise<CounterData> {
    const { counts, read, by } = this.#options
    const values: CounterData['values'] = []
    for (const entry of counts.values()) {
      if (by === undefined) values.push({ labels: { task: entry.task }, value: read(entry, 0) })
      else by.values.forEach((value, i) => values.push({ labels: { task: entry.task, [by.label]: value }, value: read(entry, i) }))
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values })
  }

  /** Zeroes every series (prom-client's `registry.resetMetrics()` calls it); each stays shown, at 0. */
  reset(): void {
    for (const entry of this.#options.counts.values()) this.#options.zero(entry)
  }

  *[RENDER](out: ExpositionBuffer, defaults: DefaultLabels): Generator<void> {
    out.text(this.#header)
    const { counts, read } = this.#options
    const extra = defaultLabelText(defaults, this.labelNames)
    const tails = this.#tails.map((tail) => Buffer.from(`${tail}${extra}} `))
    const head = this.#head
    for (const entry of counts.values()) {
      for (let i = 0; i < tails.length; i++) {
        out.bytes(head)
        out.bytes(entry.labelBytes)
        out.bytes(tails[i]!)
        out.number(read(entry, i))
      }
      yield
    }
  }
}
