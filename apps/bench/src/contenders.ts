/** The task runners compared, in the order their rows are printed. */
export const SCHEDULER_VARIANTS = ['ours', 'oursSitesOff', 'oursNoDeadline', 'oursNoNameLimits', 'oursSitesAlways'] as const

export const CONTENDERS = ['set', 'fastq', 'pqueue', ...SCHEDULER_VARIANTS] as const

export type ContenderId = (typeof CONTENDERS)[number]

/** Our scheduler under its defaults and with one default feature changed (see `ablations.ts`). */
export type SchedulerVariantId = (typeof SCHEDULER_VARIANTS)[number]

export const CONTENDER_LABELS: Readonly<Record<ContenderId, string>> = {
  set: 'Set + .then (floor)',
  fastq: 'fastq.promise',
  pqueue: 'p-queue',
  ours: 'Scheduler (defaults)',
  oursSitesOff: "Scheduler (spawnSite: 'off')",
  oursNoDeadline: 'Scheduler (timeout: Infinity)',
  oursNoNameLimits: 'Scheduler (limits: { perName: false })',
  oursSitesAlways: "Scheduler (spawnSite: 'always')",
}

const VARIANTS = new Set<ContenderId>(SCHEDULER_VARIANTS)

/** A Scheduler row other than the defaults: it changes one default and is measured like `ours`. */
export function isAblation(id: ContenderId): boolean {
  return id !== 'ours' && VARIANTS.has(id)
}

/** A record with one entry per contender, computed by `value`. */
export function byContender<T>(value: (id: ContenderId) => T): Record<ContenderId, T> {
  return Object.fromEntries(CONTENDERS.map((id) => [id, value(id)])) as Record<ContenderId, T>
}
