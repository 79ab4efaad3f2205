import { InvalidOptionError } from '../errors.js'
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, type ListQuery, type TaskPage } from '../inspection.js'
import { checkDuration, checkInteger, isTaskId } from '../validation.js'
import { earliestSpawned } from './earliest-spawned.js'
import type { LiveTask, SchedulerState, SpawnOrderedTasks } from './scheduler-state.js'
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

/**
 * One page of live tasks matching `query`, in spawn order (`Scheduler.list()`).
 *
 * Costs about the page, not the live set, where the order allows it. The queue keeps each priority
 * level's tasks of each name in spawn order, so the walk merges those lists and stops once it holds `limit + 1` matches
 * (the extra one says whether a next page exists); the delayed, running and given-up tasks, kept in no spawn
 * order but bounded by `maxQueue`, `concurrency` and `maxGivenUp`, are scanned once for their earliest matches.
 * A `state` filter skips what holds no task in that state. What stays proportional to the queue: a
 * `name` filter that few queued tasks match (every queued task is looked at, nothing is copied), and
 * a `cursor` deep inside a level (reached by walking from the nearer end of the level).
 */
export function listLiveTasks(state: SchedulerState, query: ResolvedListQuery): TaskPage {
  const { now } = state
  const { states, name, olderThan, limit, after } = query
  const wanted = limit + 1
  const tooYoung = (task: LiveTask): boolean => olderThan > 0 && now - task.spawnedAt <= olderThan
  const matches = (task: LiveTask): boolean =>
    (states === undefined || states.has(task.state)) && (name === undefined || task.name === name) && !tooYoung(task)

  // The queue and the delayed set hold only pending tasks, the running set only running ones, the given-up set only aborting ones.
  const unordered: Iterable<LiveTask>[] = []
  if (states === undefined || states.has('pending')) unordered.push(state.delayed)
  if (states === undefined || states.has('running')) unordered.push(state.running)
  if (states === undefined || states.has('aborting')) unordered.push(state.givenUp)
  const started = earliestSpawned(unordered, wanted, (task) => task.seq > after && matches(task))
  const levels = states === undefined || states.has('pending') ? state.queueLists : []

  /** The first match from `task` on in `level`, if any. */
  const nextMatch = (level: SpawnOrderedTasks, task: LiveTask | undefined): LiveTask | undefined => {
    for (; task !== undefined; task = level.after(task)) {
      // Spawn times follow spawn order (the clock is monotonic): the rest of the level is younger still.
      if (tooYoung(task)) return undefined
      if (matches(task)) return task
    }
    return undefined
  }
  const heads = levels.map((level) => nextMatch(level, firstAfter(level, after)))

  const page: LiveTask[] = []
  let next = 0
  while (page.length < wanted) {
    let best = -1
    let bestSeq = next < started.length ? started[next]!.seq : Infinity
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i]
      if (head !== undefined && head.seq < bestSeq) {
        best = i
        bestSeq = head.seq
      }
    }
    if (bestSeq === Infinity) break
    if (best < 0) {
      page.push(started[next++]!)
      continue
    }
    const task = heads[best]!
    page.push(task)
    if (page.length < wanted) heads[best] = nextMatch(levels[best]!, levels[best]!.after(task))
  }
  const more = page.length > limit
  if (more) page.length = limit
  return {
    tasks: page.map((task) => snapshotTask(state, task)),
    nextCursor: more ? page[page.length - 1]!.id : null,
  }
}

/**
 * The first task of `level` spawned after sequence number `after`: found from the nearer end, as the
 * sequence numbers of the head and the tail suggest, so a cursor near either end costs little.
 */
function firstAfter(level: SpawnOrderedTasks, after: number): LiveTask | undefined {
  const head = level.head
  if (head === undefined || head.seq > after) return head
  const tail = level.tail!
  if (tail.seq <= after) return undefined
  if (after - head.seq <= tail.seq - after) {
    let task = head
    while (task.seq <= after) task = level.after(task)!
    return task
  }
  let task = tail
  for (let prev = level.before(task); prev !== undefined && prev.seq > after; prev = level.before(task)) task = prev
  return task
}
