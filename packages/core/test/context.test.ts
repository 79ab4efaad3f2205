import assert from 'node:assert/strict'
import { AsyncLocalStorage } from 'node:async_hooks'
import { describe, it } from 'node:test'
import { deferred, flush, manualScheduler } from './helpers.js'

describe('async context', () => {
  it('a task runs in the AsyncLocalStorage context of its spawn, even when it waited for a slot', async () => {
    const als = new AsyncLocalStorage<{ requestId: string }>()
    const { scheduler } = manualScheduler({ concurrency: 1 })
    const gate = deferred()
    const seen: (string | undefined)[] = []
    als.run({ requestId: 'blocker' }, () => scheduler.spawn('blocker', () => gate.promise))
    const handles = ['req-1', 'req-2', 'req-3'].map((requestId) =>
      als.run({ requestId }, () =>
        scheduler.spawn('record', async () => {
          seen.push(als.getStore()?.requestId)
          await Promise.resolve()
          seen.push(als.getStore()?.requestId)
        }),
      ),
    )
    // The queued tasks start from the blocker's settlement, in the blocker's context: they must not see it.
    als.run({ requestId: 'someone-else' }, () => gate.resolve())
    await Promise.all(handles.map((h) => h.settled))
    assert.deepEqual(seen, ['req-1', 'req-1', 'req-2', 'req-2', 'req-3', 'req-3'])
  })

  it('a task spawned outside any context sees none', async () => {
    const als = new AsyncLocalStorage<string>()
    const { scheduler } = manualScheduler()
    let seen: string | undefined = 'unset'
    await scheduler.spawn('x', () => {
      seen = als.getStore()
    }).settled
    await flush(1)
    assert.equal(seen, undefined)
  })
})
