/**
 * A small deterministic generator (mulberry32): a workload drawn from it is the same in every run and
 * every variant, so variants are compared on the same sequence and a run can be replayed.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Uniform in [min, max) from `random`. */
export function uniform(random: () => number, min: number, max: number): number {
  return min + random() * (max - min)
}
