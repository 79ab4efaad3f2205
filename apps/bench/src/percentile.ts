/** The `p`-th percentile (0 < p ≤ 100) of a non-empty list of samples, by nearest rank: a sample itself, never interpolated. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new Error('percentile of no samples')
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!
}

/**
 * The `p`-th percentile of `exact` samples and `atLeast` ones, known only as lower bounds (waits cut
 * short by the end of a run), all taken as they are. `lowerBound` says that the true percentile may
 * be higher: some bound is at or below the figure, so raising it could move the figure.
 */
export function censoredPercentile(
  exact: readonly number[],
  atLeast: readonly number[],
  p: number,
): { readonly value: number; readonly lowerBound: boolean } {
  const value = percentile([...exact, ...atLeast], p)
  return { value, lowerBound: atLeast.some((bound) => bound <= value) }
}
