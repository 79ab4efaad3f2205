import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { LiveState, ListQuery, Priority, Scheduler, TaskHandle } from '../src/index.js'
import type { ManualClock } from '../src/testing.js'
import { deferred, flush, hang, manualScheduler, random } from './helpers.js'

// `list()` walks the queue's levels and the running and given-up sets instead of sorting every live
// task: these tests hold its pages to the obvious implementation, every live task filtered and sorted
// by id, whatever the mix of levels, states and names, and while tasks move between states.

const PRIORITIES: readonly Priority[] = ['critical', 'high', 'normal', 'low']
const NAMES = ['a', 'b', 'c'] as const
const LIVE = new Set<string>(['pending', 'running', 'aborting'])

/** A task spawned by the test, with what the reference needs to know of it. */
interface Spawned {
  readonly handle: TaskHandle
  readonly spawnedAt: number
  /** Completes the task (when it waits on a gate rather than hanging). */
  readonly finish: (() => void) | undefined
}

class Population {
  readonly tasks: Spawned[] = []
  readonly scheduler: Scheduler
  readonly clock: ManualClock

  constructor(concurrency: number) {
    ;({ scheduler: this.scheduler, clock: this.clock } = manualScheduler({ concurrency, maxQueue: 10_000, timeout: Infinity }))
  }

  /** A task that completes when told (`gate`) or never settles and ignores its signal (`hang`). */
  spawn(name: string, priority: Priority, kind: 'gate' | 'hang'): void {
    const gate = deferred()
    const handle = this.scheduler.spawn(name, kind === 'gate' ? () => gate.promise : hang, { priority })
    this.tasks.push({ handle, spawnedAt: this.clock.now(), finish: kind === 'gate' ? () => gate.resolve() : undefined })
  }

  live(state?: LiveState): Spawned[] {
    return this.tasks.filter((t) => (state === undefined ? LIVE.has(t.handle.state) : t.handle.state === state))
  }
}

interface Page {
  readonly ids: readonly string[]
  readonly states: readonly string[]
  readonly nextCursor: string | null
}

/** The obvious implementation: every live task spawned after `after` that matches the filters, sorted by id. */
function matchingTasks(population: Population, query: ListQuery, after: number): Spawned[] {
  const now = population.clock.now()
  const states = query.state === undefined ? undefined : new Set<string>(typeof query.state === 'string' ? [query.state] : query.state)
  return population.tasks
    .filter(({ handle, spawnedAt }) => {
      if (!LIVE.has(handle.state) || Number(handle.id) <= after) return false
      if (states !== undefined && !states.has(handle.state)) return false
      if (query.name !== undefined && handle.name !== query.name) return false
      return query.olderThan === undefined || query.olderThan === 0 || now - spawnedAt > query.olderThan
    })
    .sort((x, y) => Number(x.handle.id) - Number(y.handle.id))
}

/** The page as the obvious implementation makes it: the matching tasks after the cursor, cut at the limit. */
function referencePage(population: Population, query: ListQuery): Page {
  const matching = matchingTasks(population, query, query.cursor === undefined ? 0 : Number(query.cursor))
  const limit = query.limit ?? 100
  const page = matching.slice(0, limit)
  return {
    ids: page.map((t) => t.handle.id),
    states: page.map((t) => t.handle.state),
    nextCursor: matching.length > limit ? page[page.length - 1]!.handle.id : null,
  }
}

function listedPage(population: Population, query: ListQuery): Page {
  const page = population.scheduler.list(query)
  return { ids: page.tasks.map((t) => t.id), states: page.tasks.map((t) => t.state), nextCursor: page.nextCursor }
}

function assertSamePage(population: Population, query: ListQuery, context = ''): Page {
  const listed = listedPage(population, query)
  assert.deepEqual(listed, referencePage(population, query), `${JSON.stringify(query)} ${context}`)
  return listed
}

/** Walks every page of `query` with its cursors; each page must equal the reference's, and together they must be the whole list. */
function assertSamePages(population: Population, query: ListQuery): number {
  const whole = matchingTasks(population, query, 0).map((t) => t.handle.id)
  const seen: string[] = []
  let cursor: string | undefined
  let pages = 0
  for (;;) {
    const page = assertSamePage(population, { ...query, ...(cursor === undefined ? {} : { cursor }) }, `page ${pages + 1}`)
    seen.push(...page.ids)
    pages++
    if (page.nextCursor === null) break
    assert.ok(pages <= population.tasks.length, 'the cursors move on')
    cursor = page.nextCursor
  }
  assert.deepEqual(seen, whole, JSON.stringify(query))
  return pages
}

const FILTERS: readonly ListQuery[] = [
  {},
  { state: 'pending' },
  { state: 'running' },
  { state: 'aborting' },
  { state: ['pending', 'aborting'] },
  { state: ['running', 'aborting'] },
  { name: 'b' },
  { name: 'nobody' },
  { olderThan: 250 },
  { state: 'pending', name: 'a' },
  { state: ['pending', 'running'], name: 'c', olderThan: 100 },
]
const LIMITS = [1, 2, 3, 7, 100] as const

/** 60 tasks over the four levels, three names, 10 ms apart; some complete, some are cancelled while pending or running. */
async function mixedPopulation(): Promise<Population> {
  const population = new Population(4)
  const rnd = random(7)
  for (let i = 0; i < 60; i++) {
    population.spawn(NAMES[i % 3]!, PRIORITIES[Math.floor(rnd() * 4)]!, rnd() < 0.5 ? 'gate' : 'hang')
    population.clock.advance(10)
  }
  // Running tasks that complete give their slots to the queue's next (any level); running ones that
  // ignore their signal, cancelled, stay aborting; pending ones cancelled leave their level's middle.
  for (let round = 0; round < 3; round++) {
    for (const t of population.live('running')) {
      if (t.finish !== undefined) t.finish()
      else t.handle.cancel()
    }
    await flush()
  }
  for (const t of population.live('pending').filter((_, i) => i % 5 === 2)) t.handle.cancel()
  return population
}

describe('list(): pages in spawn order, equal to a sort of every live task', () => {
  it('every filter and limit, walked page by page with the cursors, over four levels and three states', async () => {
    const population = await mixedPopulation()
    // The mix is what the test is about: every level waiting, and tasks in every live state.
    assert.ok(population.live('pending').length >= 20)
    assert.ok(population.live('running').length > 0)
    assert.ok(population.live('aborting').length > 0)
    const queued = population.live('pending').map((t) => t.handle.priority)
    for (const priority of PRIORITIES) assert.ok(queued.includes(priority), `some ${priority} task waits`)
    assert.ok(population.tasks.some((t) => t.handle.state === 'cancelled' && t.handle.abortReason === 'caller'))

    let multiPage = 0
    for (const filter of FILTERS) for (const limit of LIMITS) if (assertSamePages(population, { ...filter, limit }) > 1) multiPage++
    assert.ok(multiPage > 20, 'many queries span several pages')
  })

  it('a cursor keeps its place while tasks start, finish, are cancelled and are spawned between pages', async () => {
    const population = await mixedPopulation()
    for (const filter of [{}, { state: 'pending' as const }, { name: 'a' }, { state: ['running', 'aborting'] as LiveState[] }]) {
      const query = { ...filter, limit: 5 }
      let cursor: string | undefined
      let pages = 0
      for (;;) {
        const page = assertSamePage(population, { ...query, ...(cursor === undefined ? {} : { cursor }) }, `page ${pages + 1}`)
        pages++
        if (page.nextCursor === null) break
        cursor = page.nextCursor
        // Between pages: the oldest running task finishes or is given up on (a queued task takes its
        // slot), a pending one is cancelled, a new one joins a level's tail.
        const running = population.live('running')[0]
        if (running?.finish !== undefined) running.finish()
        else running?.handle.cancel()
        population.live('pending').at(-2)?.handle.cancel()
        population.spawn(NAMES[pages % 3]!, PRIORITIES[pages % 4]!, 'gate')
        population.clock.advance(10)
        await flush()
      }
      assert.ok(pages > 2, `${JSON.stringify(filter)}: several pages`)
    }
  })

  it('matches the reference at any cursor, in 40 random interleavings of spawn, start, finish and cancel', async () => {
    let deepCursors = 0
    for (let seed = 1; seed <= 40; seed++) {
      const rnd = random(seed)
      const population = new Population(1 + Math.floor(rnd() * 6))
      for (let step = 0; step < 150; step++) {
        const op = rnd()
        if (op < 0.55) population.spawn(NAMES[Math.floor(rnd() * 3)]!, PRIORITIES[Math.floor(rnd() * 4)]!, rnd() < 0.7 ? 'gate' : 'hang')
        else if (op < 0.75) {
          const running = population.live('running')
          const t = running[Math.floor(rnd() * running.length)]
          if (t?.finish !== undefined) t.finish()
          else t?.handle.cancel()
        } else if (op < 0.85) {
          const pending = population.live('pending')
          pending[Math.floor(rnd() * pending.length)]?.handle.cancel()
        } else population.clock.advance(Math.floor(rnd() * 50))
        await flush(1)
        if (step % 10 !== 9) continue
        // Any task id is a cursor (a page may have ended on a task that has finished since).
        const seq = Math.floor(rnd() * (population.tasks.length + 2))
        const filter = FILTERS[Math.floor(rnd() * FILTERS.length)]!
        const query = { ...filter, limit: LIMITS[Math.floor(rnd() * LIMITS.length)]!, ...(seq === 0 ? {} : { cursor: String(seq) }) }
        assertSamePage(population, query, `seed ${seed} step ${step}`)
        const pending = population.live('pending')
        if (pending.length > 2 && seq > Number(pending[0]!.handle.id) && seq < Number(pending.at(-1)!.handle.id)) deepCursors++
      }
    }
    assert.ok(deepCursors > 20, 'many cursors fell inside the queue')
  })
})
