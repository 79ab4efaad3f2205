import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { Scheduler, type TaskHandle } from '../src/index.js'
import { ManualClock } from '../src/testing.js'
import { flush } from './helpers.js'

// --expose-gc is not passed on to the test runner's child processes on every Node version (24 drops
// it): turn the flag on from here, and take the function from a fresh context.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as (() => void) | undefined

/** Collects garbage until `done()` or 20 rounds; finalizers run between rounds. */
async function collectUntil(done: () => boolean): Promise<void> {
  assert.ok(gc !== undefined, 'the garbage collector is reachable')
  for (let round = 0; round < 20 && !done(); round++) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
}

describe('hangs proven by the garbage collector', () => {
  it('a given-up task whose function awaits a promise nothing can settle is proven hung; one waiting on a live client stays leaked only', async () => {
    const clock = new ManualClock()
    const scheduler = new Scheduler({ clock, timeout: 100, abortGrace: 50 })
    const hungEvents: string[] = []
    scheduler.subscribe({ hung: (task) => hungEvents.push(task.name) })
    // Its resolvers are unreachable the moment it is made: nothing can ever settle it.
    const lost = scheduler.spawn('lost-callback', async () => {
      await new Promise(() => {})
    })
    // A client that never answers, but holds the resolver: it could still settle.
    const waiting: (() => void)[] = []
    const live = scheduler.spawn('deaf-client', () => new Promise<void>((resolve) => void waiting.push(resolve)))
    // Listens to its signal, as it should: it settles once aborted.
    const polite = scheduler.spawn(
      'polite',
      ({ signal }) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))),
    )
    await flush()
    // Before its deadline a task is held strongly: running, not provable.
    await collectUntil(() => lost.hung)
    assert.equal(lost.hung, false, 'a running task is not watched')
    clock.advance(100)
    await flush()
    assert.equal(polite.state, 'timed_out')
    await collectUntil(() => lost.hung)
    assert.equal(lost.hung, true)
    assert.equal(live.hung, false)
    assert.deepEqual(hungEvents, ['lost-callback'])
    assert.deepEqual(scheduler.summary().hung, { live: 1, total: 1 })
    const groups = scheduler.groups().filter((g) => g.state === 'aborting')
    assert.deepEqual(groups.map((g) => [g.name, g.count, g.hung]).sort(), [
      ['deaf-client', 1, 0],
      ['lost-callback', 1, 1],
    ])
    const row = scheduler.list({ state: ['aborting'] }).tasks.find((t) => t.name === 'lost-callback')
    assert.equal(row?.hung, true)
    // Past abortGrace both are leaked too: the hung one is the one proven.
    clock.advance(50)
    await flush()
    assert.deepEqual([lost.leaked, live.leaked], [true, true])
    // The live client answers at last: it settles late, was never hung.
    waiting[0]!()
    await flush()
    assert.equal(live.hung, false)
    await scheduler.close({ timeout: 0 })
    assert.deepEqual(scheduler.summary().hung, { live: 0, total: 1 }, 'released at close: no longer live')
    const ended = scheduler.history().find((h) => h.id === lost.id)
    assert.deepEqual([ended?.outcome, ended?.hung, ended?.leaked, ended?.release], ['timed_out', true, true, 'closed'])
    assert.equal(scheduler.history().find((h) => h.id === live.id)?.hung, false)
  })

  it('a task that settles after its deadline is never flagged, however many collections run', async () => {
    const clock = new ManualClock()
    const scheduler = new Scheduler({ clock, timeout: 10 })
    let finish!: () => void
    const slow: TaskHandle = scheduler.spawn('slow', () => new Promise<void>((resolve) => (finish = resolve)))
    await flush()
    clock.advance(10)
    await flush()
    assert.equal(slow.state, 'aborting')
    await collectUntil(() => false)
    assert.equal(slow.hung, false)
    finish()
    await flush()
    await collectUntil(() => false)
    assert.equal(slow.hung, false)
    assert.deepEqual(scheduler.summary().hung, { live: 0, total: 0 })
  })
})
