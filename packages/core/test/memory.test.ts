import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { Scheduler } from '../src/index.js'

// --expose-gc is not passed on to the test runner's child processes on every Node version (24 drops
// it): turn the flag on from here, and take the function from a fresh context.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as (() => void) | undefined

async function settleAll(scheduler: Scheduler, count: number, batch: number): Promise<void> {
  const task = async (): Promise<number> => 1
  for (let done = 0; done < count; done += batch) {
    for (let i = 0; i < batch; i++)
      scheduler.spawn(i % 3 === 0 ? 'a' : 'b', task, i % 5 === 0 ? { labels: { route: '/x' }, meta: { requestId: String(i) } } : undefined)
    // The scheduler spreads long runs of starts over turns of the event loop: let each batch finish.
    for (let i = 0; i < 10_000 && scheduler.liveCount > 0; i++) await new Promise((resolve) => setImmediate(resolve))
  }
  assert.equal(scheduler.liveCount, 0)
}

/** The least heap in use over a few full collections a turn apart (what callbacks still held is let go in between). */
async function heapAfterGc(): Promise<number> {
  let least = Infinity
  for (let i = 0; i < 4; i++) {
    gc!()
    gc!()
    least = Math.min(least, process.memoryUsage().heapUsed)
    await new Promise((resolve) => setImmediate(resolve))
  }
  return least
}

describe('bounded memory', { skip: gc === undefined ? 'needs --expose-gc' : false }, () => {
  it('heap after 1 000 000 more short tasks is back where it was after the first 100 000', async () => {
    const scheduler = new Scheduler({ concurrency: 100, maxQueue: 10_000 })
    // Warm first: until its code is optimized, V8 allocates code and feedback as tasks run (on
    // Node 24 that read as 2.4 MB once, with 80 KB of real growth).
    await settleAll(scheduler, 100_000, 2_000)
    const warm = await heapAfterGc()
    await settleAll(scheduler, 1_000_000, 2_000)
    const after1m = await heapAfterGc()
    const grownBytes = after1m - warm
    // A leak of even 8 bytes per task would show as 8 MB; allow 2 MB of noise (JIT, test runner).
    assert.ok(grownBytes < 2 * 1024 * 1024, `heap grew by ${grownBytes} bytes over 1 000 000 tasks`)
    const summary = scheduler.summary()
    assert.equal(summary.spawned, 1_100_000)
    assert.equal(summary.outcomes.completed, 1_100_000)
    assert.equal(scheduler.history(1_000).length, 1_000)
  })
})
