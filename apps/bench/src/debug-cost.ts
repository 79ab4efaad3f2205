/**
 * Response time and size of the `/debug/tasks` views with many live tasks. One app (`live-tasks.ts`)
 * grows its population step by step; at each size every view is requested in-process with
 * `app.inject` in rounds, the view order rotated each round. Each `?view=tasks` request is also
 * compared with the grouped view (JSON) of the same round. The app is drained and closed at the end,
 * even when a measurement fails.
 */
import {
  DEBUG_TASK_VIEW_ROWS,
  DEBUG_TASK_VIEWS,
  DEBUG_VIEWS,
  DEBUG_VIEW_URLS,
  type DebugTaskViewId,
  type DebugViewId,
} from './debug-views.js'
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
  /** Of those, running (the rest are queued). */
  readonly running: number
  /** Groups in the grouped view (before its `maxGroups` cap). */
  readonly groups: number
  readonly views: Readonly<Record<DebugViewId, DebugViewStats>>
  /** Each `?view=tasks` request's time ÷ the grouped view's (JSON) in the same round: the median over the measured rounds. */
  readonly toGroups: Readonly<Record<DebugTaskViewId, number>>
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
      const running = live.running
      await collectGarbage()
      const samples = new Map<DebugViewId, { ms: number[]; bytes: number[] }>(DEBUG_VIEWS.map((id) => [id, { ms: [], bytes: [] }]))
      const ratios = new Map<DebugTaskViewId, number[]>(DEBUG_TASK_VIEWS.map((id) => [id, []]))
      let groups = 0
      for (let round = 0; round < options.rounds; round++) {
        const roundMs = new Map<DebugViewId, number>()
        for (const view of rotate(DEBUG_VIEWS, round)) {
          const response = await timedGet(live.app, DEBUG_VIEW_URLS[view])
          // Each view is checked to be what it claims, with the whole population behind it.
          if (view === 'groups') {
            const body = JSON.parse(response.body) as GroupsBody
            if (body.summary.live.total !== population) {
              throw new Error(`/debug/tasks reports ${body.summary.live.total} live tasks, expected ${population}`)
            }
            groups = body.groups.length + body.groupsOmitted
          } else if (view === 'groupsText') {
            // After the attention notes, if any (a queue that waits is one).
            if (!response.body.split('\n', 10).some((line) => line.startsWith(`tasks: ${population} live`))) {
              throw new Error(`?format=text has no line 'tasks: ${population} live': ${JSON.stringify(response.body.slice(0, 200))}`)
            }
          } else {
            const rows = (JSON.parse(response.body) as TasksBody).tasks.length
            const expected = DEBUG_TASK_VIEW_ROWS[view]({ total: population, running })
            if (rows !== expected) throw new Error(`${DEBUG_VIEW_URLS[view]} returned ${rows} tasks, expected ${expected}`)
          }
          if (round < options.warmup) continue
          samples.get(view)!.ms.push(response.ms)
          samples.get(view)!.bytes.push(response.bytes)
          roundMs.set(view, response.ms)
        }
        if (round < options.warmup) continue
        for (const view of DEBUG_TASK_VIEWS) ratios.get(view)!.push(roundMs.get(view)! / roundMs.get('groups')!)
      }
      const stats = (id: DebugViewId): DebugViewStats => {
        const { ms, bytes } = samples.get(id)!
        return { ms: median(ms), msMin: Math.min(...ms), msMax: Math.max(...ms), bytes: Math.round(median(bytes)) }
      }
      results.push({
        tasks: population,
        running,
        groups,
        views: Object.fromEntries(DEBUG_VIEWS.map((id) => [id, stats(id)])) as Record<DebugViewId, DebugViewStats>,
        toGroups: Object.fromEntries(DEBUG_TASK_VIEWS.map((id) => [id, median(ratios.get(id)!)])) as Record<DebugTaskViewId, number>,
      })
      options.onSize?.()
    }
    return results
  } finally {
    await live.close()
  }
}
