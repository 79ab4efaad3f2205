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

function heapAfterGc(): number {
  gc!()
  gc!()
  return process.memoryUsage().heapUsed
}

describe('bounded memory', { skip: gc === undefined ? 'needs --expose-gc' : false }, () => {
  it('heap after 1 000 000 short tasks is back where it was after 1 000', async () => {
    const scheduler = new Scheduler({ concurrency: 100, maxQueue: 10_000 })
    await settleAll(scheduler, 1_000, 1_000)
    const after1k = heapAfterGc()
    await settleAll(scheduler, 1_000_000, 2_000)
    const after1m = heapAfterGc()
    const grownBytes = after1m - after1k
    // A leak of even 8 bytes per task would show as 8 MB; allow 2 MB of noise (JIT, test runner).
    assert.ok(grownBytes < 2 * 1024 * 1024, `heap grew by ${grownBytes} bytes over 1 000 000 tasks`)
    const summary = scheduler.summary()
    assert.equal(summary.spawned, 1_001_000)
    assert.equal(summary.outcomes.completed, 1_001_000)
    assert.equal(scheduler.history(1_000).length, 1_000)
  })
})
