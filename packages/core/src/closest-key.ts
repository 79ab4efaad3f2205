/** Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`, or `limit + 1` once past `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1
  // Optimal string alignment: Levenshtein plus transpositions (`histroy` is one edit from `history`).
  let before: number[] = []
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    let best = i
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let d = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1)
      current.push(d)
      if (d < best) best = d
    }
    if (best > limit) return limit + 1
    before = previous
    previous = current
  }
  return previous[b.length]!
}

/**
 * The known key `key` most likely meant, or `undefined`: the same name in another case, then one a
 * few edits away (`concurency` → `concurrency`, `metric` → `metrics`), then one that starts with it
 * or that it starts with (`drain` → `drainTimeout`, `eventLoopOptions` → `eventLoop`), then one that
 * contains it or that it contains (`queue` → `maxQueue`).
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const wanted = key.toLowerCase()
  const candidates = known.map((name) => ({ name, lower: name.toLowerCase() }))
  const exact = candidates.find((c) => c.lower === wanted)
  if (exact !== undefined) return exact.name
  const limit = Math.min(3, Math.max(1, Math.floor(wanted.length / 3)))
  let closest: string | undefined
  let closestDistance = limit + 1
  for (const c of candidates) {
    const distance = editDistance(wanted, c.lower, limit)
    if (distance < closestDistance) {
      closest = c.name
      closestDistance = distance
    }
  }
  if (closest !== undefined) return closest
  if (wanted.length < 3) return undefined
  const shortest = (matches: readonly { name: string }[]): string | undefined =>
    matches.reduce<string | undefined>((best, m) => (best === undefined || m.name.length < best.length ? m.name : best), undefined)
  return (
    shortest(candidates.filter((c) => c.lower.startsWith(wanted) || (c.lower.length >= 3 && wanted.startsWith(c.lower)))) ??
    shortest(candidates.filter((c) => c.lower.includes(wanted) || (c.lower.length >= 3 && wanted.includes(c.lower))))
  )
}
