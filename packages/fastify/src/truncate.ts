/**
 * `text` cut to at most `max` characters, the cut marked with `…` (which counts as one of them), so
 * a hostile or runaway value (a task name, a label, an error message) stays bounded wherever it is
 * shown: debug reports, terminal tables, metric labels, logs.
 */
export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}
