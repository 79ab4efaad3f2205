/** The `/debug/tasks` requests measured by the debug route benchmark, in the order their rows are printed. */
export const DEBUG_VIEWS = ['groups', 'groupsText', 'tasks', 'tasksByName', 'tasksRunning', 'tasksPending', 'tasksNoMatch'] as const

export type DebugViewId = (typeof DEBUG_VIEWS)[number]

/** The `?view=tasks` requests: each one is compared with the grouped view (JSON) of the same round. */
export const DEBUG_TASK_VIEWS = ['tasks', 'tasksByName', 'tasksRunning', 'tasksPending', 'tasksNoMatch'] as const

export type DebugTaskViewId = (typeof DEBUG_TASK_VIEWS)[number]

/** The task name of the filtered page: one task in ten of the live mix (see `live-tasks.ts`). */
export const DEBUG_FILTER_NAME = 'sync-inventory'

export const DEBUG_VIEW_LABELS: Readonly<Record<DebugViewId, string>> = {
  groups: 'grouped, JSON',
  groupsText: 'grouped, text',
  tasks: 'tasks, limit 100',
  tasksByName: 'tasks, limit 100, by name (1 in 10)',
  tasksRunning: 'tasks, limit 100, state=running',
  tasksPending: 'tasks, limit 100, state=pending',
  tasksNoMatch: 'tasks, limit 100, name matching none',
}

export const DEBUG_VIEW_URLS: Readonly<Record<DebugViewId, string>> = {
  groups: '/debug/tasks',
  groupsText: '/debug/tasks?format=text',
  tasks: '/debug/tasks?view=tasks&limit=100',
  tasksByName: `/debug/tasks?view=tasks&limit=100&name=${DEBUG_FILTER_NAME}`,
  tasksRunning: '/debug/tasks?view=tasks&limit=100&state=running',
  tasksPending: '/debug/tasks?view=tasks&limit=100&state=pending',
  tasksNoMatch: '/debug/tasks?view=tasks&limit=100&name=no-such-task',
}

/** Rows each `?view=tasks` request must return, from the live tasks and how many of them run. */
export const DEBUG_TASK_VIEW_ROWS: Readonly<Record<DebugTaskViewId, (live: { total: number; running: number }) => number>> = {
  tasks: ({ total }) => Math.min(100, total),
  tasksByName: ({ total }) => Math.min(100, total / 10),
  tasksRunning: ({ running }) => Math.min(100, running),
  tasksPending: ({ total, running }) => Math.min(100, total - running),
  tasksNoMatch: () => 0,
}
