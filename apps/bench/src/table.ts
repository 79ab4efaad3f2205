export type Align = 'left' | 'right'

export interface Column {
  readonly header: string
  readonly align?: Align
}

/** Visible width: counts code points, not UTF-16 units. */
function width(text: string): number {
  return [...text].length
}

function pad(text: string, size: number, align: Align): string {
  const fill = ' '.repeat(Math.max(0, size - width(text)))
  return align === 'right' ? fill + text : text + fill
}

/** Renders rows under their headers as an aligned plain-text table. */
export function formatTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const sizes = columns.map((column, i) => Math.max(width(column.header), ...rows.map((row) => width(row[i] ?? ''))))
  const line = (cells: readonly string[], header: boolean): string =>
    columns
      .map((column, i) => pad(cells[i] ?? '', sizes[i]!, header ? 'left' : (column.align ?? 'left')))
      .join(' | ')
      .trimEnd()
  const rule = sizes.map((size) => '-'.repeat(size)).join('-+-')
  return [
    line(
      columns.map((c) => c.header),
      true,
    ),
    rule,
    ...rows.map((row) => line(row, false)),
  ].join('\n')
}
