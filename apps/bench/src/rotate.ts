/** `items` rotated left by `by` places: round `r` of a benchmark starts with item `r`, so no item always runs first. */
export function rotate<T>(items: readonly T[], by: number): T[] {
  const shift = by % items.length
  return [...items.slice(shift), ...items.slice(0, shift)]
}
