/** Named priority levels, most urgent first. */
export type Priority = 'critical' | 'high' | 'normal' | 'low'

/** All levels, most urgent first. Index = rank. */
export const PRIORITIES: readonly Priority[] = Object.freeze(['critical', 'high', 'normal', 'low'])

/** Rank of a level: 0 for `critical` … 3 for `low`. */
export function priorityRank(priority: Priority): number {
  switch (priority) {
    case 'critical':
      return 0
    case 'high':
      return 1
    case 'normal':
      return 2
    case 'low':
      return 3
  }
}
