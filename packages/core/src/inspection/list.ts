import { InvalidOptionError } from '../errors.js'
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, type ListQuery, type TaskPage } from '../inspection.js'
import { checkDuration, checkInteger, isTaskId } from '../validation.js'
import type { LiveTask, SchedulerState } from './scheduler-state.js'
import { snapshotTask } from './snapshot.js'

const LIVE_STATES = new Set<string>(['pending', 'running', 'aborting'])

/** A {@link ListQuery} after validation. */
export interface ResolvedListQuery {
  readonly states: ReadonlySet<string> | undefined
  readonly name: string | undefined
  /** 0 for no filter. */
  readonly olderThan: number
  readonly limit: number
  /** Only tasks whose sequence number is above this (0 for the first page). */
  readonly after: number
}

/** Validates the query of `list()`; throws `InvalidOptionError` naming the bad field. */
export function checkListQuery(query: ListQuery): ResolvedListQuery {
  if (typeof query !== 'object' || query === null) throw new InvalidOptionError('list(query)', 'an object', query)
  if (query.state !== undefined && typeof query.state !== 'string' && !Array.isArray(query.state)) {
    throw new InvalidOptionError('list(query.state)', "'pending', 'running', 'aborting' or an array of them", query.state)
  }
  const states = query.state === undefined ? undefined : new Set<string>(typeof query.state === 'string' ? [query.state] : query.state)
  if (states !== undefined) {
    for (const s of states)
      if (!LIVE_STATES.has(s)) throw new InvalidOptionError('list(query.state)', "'pending', 'running' or 'aborting'", s)
  }
  if (query.name !== undefined && typeof query.name !== 'string') throw new InvalidOptionError('list(query.name)', 'a string', query.name)
  const olderThan = query.olderThan === undefined ? 0 : checkDuration('list(query.olderThan)', query.olderThan)
  const limit =
    query.limit === undefined ? DEFAULT_LIST_LIMIT : checkInteger('list(query.limit)', query.limit, { min: 1, max: MAX_LIST_LIMIT })
  let after = 0
  if (query.cursor !== undefined) {
    after = isTaskId(query.cursor) ? Number(query.cursor) : NaN
    if (Number.isNaN(after)) throw new InvalidOptionError('list(query.cursor)', 'a cursor returned by a previous page', query.cursor)
  }
  return { states, name: query.name, olderThan, limit, after }
}

/** One page of live tasks matching `query`, in spawn order (`Scheduler.list()`). */
export function listLiveTasks(state: SchedulerState, query: ResolvedListQuery): TaskPage {
  const { now } = state
  const { states, name, olderThan, limit, after } = query
  const matching: LiveTask[] = []
  const consider = (task: LiveTask): void => {
    if (task.seq <= after) return
    if (states !== undefined && !states.has(task.state)) return
    if (name !== undefined && task.name !== name) return
    if (olderThan > 0 && now - task.spawnedAt <= olderThan) return
    matching.push(task)
  }
  for (const task of state.queued) consider(task)
  for (const task of state.running) consider(task)
  for (const task of state.givenUp) consider(task)
  matching.sort((a, b) => a.seq - b.seq)
  const page = matching.length > limit ? matching.slice(0, limit) : matching
  return {
    tasks: page.map((task) => snapshotTask(state, task)),
    nextCursor: matching.length > limit ? page[page.length - 1]!.id : null,
  }
}
