/**
 * Response time and size of the `/debug/tasks` views with many live tasks. One app (`live-tasks.ts`)
 * grows its population step by step; at each size every view is requested in-process with
 * `app.inject` in rounds, the view order rotated each round. The app is drained and closed at the end,
 * even when a measurement fails.
 */
import { DEBUG_VIEWS, DEBUG_VIEW_URLS, type DebugViewId } from './debug-views.js'
import { collectGarbage } from './gc.js'
import { timedGet } from './inject-timing.js'
import { createLiveTaskApp } from './live-tasks.js'
import { median } from './median.js'
import { rotate } from './rotate.js'

export interface DebugCostOptions {
  /** Live task counts, ascending: the population grows from one to the next. */
  readonly sizes: readonly number[]
  /** Rounds per size, each requesting every view once. */
  readonly rounds: number
  /** Leading rounds discarded. */
  readonly warmup: number
  /** Called after each size is measured. */
  readonly onSize?: () => void
}

export interface DebugViewStats {
  /** Response time, ms: median and range over the measured rounds. */
  readonly ms: number
  readonly msMin: number
  readonly msMax: number
  /** Median body size, bytes (ages and memory figures make it vary slightly). */
  readonly bytes: number
}

export interface DebugSizeResult {
  /** Live tasks while measured. */
  readonly tasks: number
  /** Groups in the grouped view (before its `maxGroups` cap). */
  readonly groups: number
  readonly views: Readonly<Record<DebugViewId, DebugViewStats>>
}

export type DebugCostResult = readonly DebugSizeResult[]

interface GroupsBody {
  summary: { live: { total: number } }
  groups: unknown[]
  groupsOmitted: number
}

interface TasksBody {
  tasks: unknown[]
}

export async function measureDebugCost(options: DebugCostOptions): Promise<DebugCostResult> {
  const live = await createLiveTaskApp()
  try {
    const results: DebugSizeResult[] = []
    for (const tasks of options.sizes) {
      await live.grow(tasks)
      const population = live.size
      await collectGarbage()
      const samples = new Map<DebugViewId, { ms: number[]; bytes: number[] }>(DEBUG_VIEWS.map((id) => [id, { ms: [], bytes: [] }]))
      let groups = 0
      for (let round = 0; round < options.rounds; round++) {
        for (const view of rotate(DEBUG_VIEWS, round)) {
          const response = await timedGet(live.app, DEBUG_VIEW_URLS[view])
          // Each view is checked to be what it claims, with the whole population behind it.
          if (view === 'groups') {
            const body = JSON.parse(response.body) as GroupsBody
            if (body.summary.live.total !== population) {
              throw new Error(`/debug/tasks reports ${body.summary.live.total} live tasks, expected ${population}`)
            }
            groups = body.groups.length + body.groupsOmitted
          } else if (view === 'tasks') {
            const rows = (JSON.parse(response.body) as TasksBody).tasks.length
            if (rows !== Math.min(100, population)) throw new Error(`?view=tasks&limit=100 returned ${rows} tasks`)
          } else if (!response.body.startsWith(`tasks: ${population} live`)) {
            throw new Error(`?format=text starts with ${JSON.stringify(response.body.slice(0, 60))}`)
          }
          if (round < options.warmup) continue
          samples.get(view)!.ms.push(response.ms)
          samples.get(view)!.bytes.push(response.bytes)
        }
      }
      const stats = (id: DebugViewId): DebugViewStats => {
        const { ms, bytes } = samples.get(id)!
        return { ms: median(ms), msMin: Math.min(...ms), msMax: Math.max(...ms), bytes: Math.round(median(bytes)) }
      }
      results.push({
        tasks: population,
        groups,
        views: { groups: stats('groups'), groupsText: stats('groupsText'), tasks: stats('tasks') },
      })
      options.onSize?.()
    }
    return results
  } finally {
    await live.close()
  }
}
