/**
 * How a batch of tasks is spawned: all at once, or in slices with a macrotask turn between them.
 * Either way the batch is then awaited until its last task settles.
 */

export type SpawnPatternId = 'burst' | 'steady'

export interface SpawnPattern {
  readonly id: SpawnPatternId
  readonly label: string
  readonly description: string
  /**
   * Spawns `count` tasks by calling `spawnSlice` with slice sizes that add up to `count`. Each call
   * spawns its slice synchronously; the pattern decides what happens between calls.
   */
  spawn(count: number, spawnSlice: (size: number) => void): Promise<void>
}

/** Tasks spawned per slice by the `steady` pattern. */
export const STEADY_SLICE = 1_000

const nextTurn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve))

export const SPAWN_PATTERNS: readonly SpawnPattern[] = [
  {
    id: 'burst',
    label: 'burst',
    description: 'the whole batch spawned synchronously, then awaited: up to the batch size pending at once',
    spawn: async (count, spawnSlice) => {
      spawnSlice(count)
    },
  },
  {
    id: 'steady',
    label: 'steady',
    description: `slices of ${STEADY_SLICE.toLocaleString('en-US')} tasks with one setImmediate turn between slices, like requests arriving`,
    spawn: async (count, spawnSlice) => {
      for (let spawned = 0; spawned < count; spawned += STEADY_SLICE) {
        if (spawned > 0) await nextTurn()
        spawnSlice(Math.min(STEADY_SLICE, count - spawned))
      }
    },
  },
]
