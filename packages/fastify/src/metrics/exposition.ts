import type { Registry } from 'prom-client'
import { ExpositionBuffer } from './exposition-buffer.js'

/**
 * The exposition of a prom-client registry, with the plugin's own metrics rendering their text
 * themselves.
 *
 * prom-client's `registry.metrics()` asks every metric for its values as objects and formats them,
 * label by label, sample by sample: 30 ms and more for the plugin's ~17 700 samples at 200 task names
 * with mixed outcomes, in one block of the event loop. The plugin's metrics with a series per task
 * name ({@link SelfRenderingMetric}) keep their data in their own structures and their label text
 * escaped and encoded once per series, so they write a line as a few byte copies and its value's
 * digits (see {@link ExpositionBuffer}), and let the event loop turn every few hundred kilobytes.
 *
 * They still register in the registry like any prom-client metric (the same `get()` contract), so
 * `registry.metrics()`, `getMetricsAsJSON()` and `Registry.merge` see every series, only slower:
 * prom-client offers no way for a metric to hand it text, so the fast path is here, and the
 * `/metrics` route and `app.tasks.metrics.exposition()` take it.
 */

/** The method by which a metric of ours writes its own exposition. */
export const RENDER = Symbol('fastify-tasks.render')

/**
 * The labels a registry adds to every sample (`registry.setDefaultLabels()`): `[name, 'name="value"']`
 * pairs, the value escaped as prom-client writes it.
 */
export type DefaultLabels = readonly (readonly [name: string, text: string])[]

/** A metric that writes its own text, in prom-client's spelling and order. */
export interface SelfRenderingMetric {
  readonly name: string
  /**
   * A label-less metric with one sample, registered beside this one and formatted by prom-client:
   * its sample line shows the registry's default labels, which prom-client has no getter for.
   */
  readonly probe: string
  /**
   * Writes the metric's text into `out`: its `# HELP` and `# TYPE` lines, then the lines of its
   * samples, each starting with a line feed; no line feed at the end. It pauses (yields) after each
   * series or few, for the caller to let the event loop turn.
   */
  [RENDER](out: ExpositionBuffer, defaults: DefaultLabels): Iterable<void>
}

/** The content type of the text format the plugin's metrics write (prom-client's default). */
const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8'

/**
 * Bytes written between two turns of the event loop: well under a millisecond of rendering, so a
 * scrape with many task names never holds the loop for long.
 */
const BYTES_PER_TURN = 256 * 1024

/** The size of each registry's last exposition, for the next one's first allocation. */
const lastSize = new WeakMap<Registry, number>()

const nextTurn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve))

function isSelfRendering(metric: unknown): metric is SelfRenderingMetric {
  return typeof (metric as Partial<SelfRenderingMetric>)[RENDER] === 'function'
}

/**
 * The registry's exposition as UTF-8 bytes: what `registry.metrics()` writes (same metrics, order,
 * lines and spelling), with the plugin's metrics rendered by themselves. Falls back to prom-client
 * where it cannot be sure to match it: a registry in the OpenMetrics content type is formatted by
 * prom-client entirely, and so is a metric of ours whose probe does not show the default labels.
 */
export async function renderExposition(registry: Registry): Promise<Buffer> {
  const metrics = registry.getMetricsAsArray()
  if (registry.contentType !== PROMETHEUS_TEXT || !metrics.some(isSelfRendering)) return Buffer.from(await registry.metrics())
  // Every other metric is formatted by prom-client, all started at once as registry.metrics() does
  // (their collect functions may be asynchronous).
  const formatted = await Promise.all(
    metrics.map(async (metric) => (isSelfRendering(metric) ? undefined : registry.getSingleMetricAsString(metric.name))),
  )
  const byName = new Map<string, string>()
  metrics.forEach((metric, i) => {
    const text = formatted[i]
    if (text !== undefined) byName.set(metric.name, text)
  })
  const out = new ExpositionBuffer(lastSize.get(registry))
  let turnStart = 0
  for (const [i, metric] of metrics.entries()) {
    if (i > 0) out.text('\n\n')
    const text = formatted[i]
    if (text !== undefined) {
      out.text(text)
      continue
    }
    const self = metric as unknown as SelfRenderingMetric
    const probe = byName.get(self.probe)
    const defaults = probe === undefined ? undefined : defaultLabelsOf(self.probe, probe)
    if (defaults === undefined) {
      out.text(await registry.getSingleMetricAsString(self.name))
      continue
    }
    for (const _ of self[RENDER](out, defaults)) {
      if (out.length - turnStart < BYTES_PER_TURN) continue
      await nextTurn()
      turnStart = out.length
    }
  }
  out.text('\n')
  lastSize.set(registry, out.length)
  return out.contents()
}

/** `name="value"` pairs, prom-client's escaping: a value is anything but `"` and `\`, or an escape. */
const PAIR = /([^=,{}]+)="((?:[^"\\]|\\.)*)"(,|\})/y

/**
 * The default labels of a registry, read from prom-client's text of its label-less `probe` metric:
 * `[]` for `name 0`, the pairs of `name{env="prod"} 0`; `undefined` if the text is not one such line.
 */
export function defaultLabelsOf(probe: string, text: string): DefaultLabels | undefined {
  const line = text.slice(text.lastIndexOf('\n') + 1)
  if (line.startsWith(`${probe} `)) return []
  if (!line.startsWith(`${probe}{`)) return undefined
  const pairs: (readonly [string, string])[] = []
  PAIR.lastIndex = probe.length + 1
  for (;;) {
    const start = PAIR.lastIndex
    const match = PAIR.exec(line)
    if (match === null) return undefined
    pairs.push([match[1]!, line.slice(start, PAIR.lastIndex - 1)])
    if (match[3] === '}') return line[PAIR.lastIndex] === ' ' ? pairs : undefined
  }
}

/**
 * The text a series adds inside its braces for the registry's default labels, after its own: prom-client
 * writes a sample's own labels first, then the default ones it does not have.
 */
export function defaultLabelText(defaults: DefaultLabels, own: readonly string[]): string {
  let text = ''
  for (const [name, pair] of defaults) if (!own.includes(name)) text += `,${pair}`
  return text
}

/** `{own,defaults}` (or nothing, without labels): `own` and `defaults` as rendered above. */
export function braces(own: string, defaults: string): string {
  if (own === '') return defaults === '' ? '' : `{${defaults.slice(1)}}`
  return `{${own}${defaults}}`
}
