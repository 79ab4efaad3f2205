/**
 * The spelling rules of the Prometheus text format (version 0.0.4) that the plugin's own metrics
 * render with: how label values, help text and sample values are written. They spell everything
 * exactly as prom-client does, so a series reads the same whichever of the two rendered it.
 */

const LABEL_VALUE_SPECIAL = /[\\"\n]/
const LABEL_VALUE_SPECIALS = /[\\"\n]/g
const HELP_SPECIALS = /[\\\n]/g
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '"': '\\"', '\n': '\\n' }
const escape = (char: string): string => ESCAPES[char]!

/**
 * A label value as written between the double quotes of `name="…"`: backslash, double quote and line
 * feed escaped (`\\`, `\"`, `\n`); every other character, unicode included, as it is.
 */
export function escapeLabelValue(value: string): string {
  return LABEL_VALUE_SPECIAL.test(value) ? value.replace(LABEL_VALUE_SPECIALS, escape) : value
}

/** Help text as written after `# HELP name `: backslash and line feed escaped. */
export function escapeHelp(text: string): string {
  return text.replace(HELP_SPECIALS, escape)
}

/** `name="value"`, the value escaped. */
export function labelPair(name: string, value: string): string {
  return `${name}="${escapeLabelValue(value)}"`
}

/** A sample value: `+Inf`, `-Inf` and `Nan` (prom-client's spelling, which Prometheus accepts), else JavaScript's. */
export function formatSampleValue(value: number): string {
  if (Number.isNaN(value)) return 'Nan'
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  return `${value}`
}

/** The `# HELP` and `# TYPE` lines of a metric (no line feed after the second). */
export function metricHeader(name: string, help: string, type: string): string {
  return `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}`
}
