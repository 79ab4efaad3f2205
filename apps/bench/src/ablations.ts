/**
 * Ablations of our scheduler: the options of each variant, and the per-task cost of a default
 * feature derived as the difference between two variants' medians.
 */
import type { SchedulerOptions } from '@fastify-tasks/core'
import type { SchedulerVariantId } from './contenders.js'

/**
 * What each variant changes from the defaults. Every variant also gets the benchmark's
 * `concurrency` and a `maxQueue` that fits a whole batch.
 */
export const VARIANT_OPTIONS: Readonly<Record<SchedulerVariantId, SchedulerOptions>> = {
  ours: {},
  oursSitesOff: { spawnSite: 'off' },
  oursNoDeadline: { timeout: Infinity },
  oursNoNameLimits: { limits: { perName: false } },
  oursSitesAlways: { spawnSite: 'always' },
}

export interface Ablation {
  readonly feature: string
  /** The variant with the feature. */
  readonly with: SchedulerVariantId
  /** The variant without it. */
  readonly without: SchedulerVariantId
}

export const ABLATIONS: readonly Ablation[] = [
  { feature: 'default deadline (defaults − timeout: Infinity)', with: 'ours', without: 'oursNoDeadline' },
  { feature: "sampled spawn sites (defaults − spawnSite: 'off')", with: 'ours', without: 'oursSitesOff' },
  { feature: 'adaptive limits per name (defaults − limits: { perName: false })', with: 'ours', without: 'oursNoNameLimits' },
  { feature: "always-on spawn sites ('always' − 'off')", with: 'oursSitesAlways', without: 'oursSitesOff' },
]

/** µs per task the feature costs: the difference of the two variants' medians (negative within noise). */
export function ablationCost(ablation: Ablation, median: (variant: SchedulerVariantId) => number): number {
  return median(ablation.with) - median(ablation.without)
}
