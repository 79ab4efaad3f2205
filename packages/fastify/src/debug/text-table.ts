import { truncate } from '../truncate.js'

/**
 * Characters that would break a terminal line or disguise one: C0/C1 controls, DEL, line and
 * paragraph separators, and the invisible format characters (Unicode category Cf: bidirectional
 * overrides and isolates, zero-width spaces and joiners, the byte-order mark, the soft hyphen…),
 * with which a name could reorder or hide what an operator reads.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\p{Cf}]/gu

/** `\u202e`, or `\u{e0001}` beyond the Basic Multilingual Plane. */
function escapeCodePoint(c: string): string {
  const code = c.codePointAt(0)!.toString(16)
  return code.length > 4 ? `\\u{${code}}` : `\\u${code.padStart(4, '0')}`
}

/** One line of text, safe for a terminal: controls and format characters escaped, at most `max` characters. */
export function printable(value: string | number | boolean | null | undefined, max = 80): string {
  const text = (value === null || value === undefined ? '-' : String(value)).replace(UNPRINTABLE, (c) =>
    c === '\n' ? '\\n' : c === '\t' ? '\\t' : c === '\r' ? '\\r' : escapeCodePoint(c),
  )
  return truncate(text, max)
}

/** A column of a text table; `right` aligns numbers. */
export interface Column<Row> {
  readonly header: string
  readonly value: (row: Row) => string | number | boolean | null | undefined
  readonly right?: boolean
  readonly max?: number
}

/** An aligned plain-text table, like `ps` or Go's goroutine dump: readable without `jq`. */
export function textTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string {
  const cells = rows.map((row) => columns.map((column) => printable(column.value(row), column.max)))
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((line) => line[i]!.length)))
  const format = (values: readonly string[]): string =>
    values
      .map((value, i) => (columns[i]!.right === true ? value.padStart(widths[i]!) : value.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [format(columns.map((c) => c.header)), ...cells.map(format)].join('\n')
}

/** `2h51m`, `4m03s`, `12.5s`, `340ms`: an age a person reads at a glance. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-'
  const sign = ms < 0 ? '-' : ''
  const abs = Math.abs(ms)
  if (abs < 1_000) return `${sign}${Math.round(abs)}ms`
  if (abs < 60_000) return `${sign}${(abs / 1_000).toFixed(1)}s`
  const totalSeconds = Math.floor(abs / 1_000)
  const hours = Math.floor(totalSeconds / 3_600)
  const minutes = Math.floor((totalSeconds % 3_600) / 60)
  const seconds = totalSeconds % 60
  return hours > 0 ? `${sign}${hours}h${String(minutes).padStart(2, '0')}m` : `${sign}${minutes}m${String(seconds).padStart(2, '0')}s`
}

/** `120.5 MiB`. */
export function bytes(value: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB']
  let v = value
  let unit = 0
  while (v >= 1024 && unit < units.length - 1) {
    v /= 1024
    unit++
  }
  return `${unit === 0 ? v : v.toFixed(1)} ${units[unit]}`
}
