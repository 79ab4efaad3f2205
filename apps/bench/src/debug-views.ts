/** The `/debug/tasks` requests measured by the debug route benchmark, in the order their rows are printed. */
export const DEBUG_VIEWS = ['groups', 'groupsText', 'tasks'] as const

export type DebugViewId = (typeof DEBUG_VIEWS)[number]

export const DEBUG_VIEW_LABELS: Readonly<Record<DebugViewId, string>> = {
  groups: 'grouped, JSON',
  groupsText: 'grouped, text',
  tasks: 'tasks, limit 100',
}

export const DEBUG_VIEW_URLS: Readonly<Record<DebugViewId, string>> = {
  groups: '/debug/tasks',
  groupsText: '/debug/tasks?format=text',
  tasks: '/debug/tasks?view=tasks&limit=100',
}
