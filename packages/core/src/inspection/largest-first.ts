/** Largest groups first; then oldest; then by name, so equal groups print in a stable order. */
export function largestFirst(a: { count: number; oldestAgeMs: number; name: string }, b: typeof a): number {
  return b.count - a.count || b.oldestAgeMs - a.oldestAgeMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
}
