import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  AdmissionError,
  InvalidOptionError,
  Scheduler,
  type TaskContext,
  type TaskFunction,
  type TaskHandle,
  type TrustedSpawnFields,
} from '../src/index.js'
import { ManualClock } from '../src/testing.js'
import { hang } from './helpers.js'

/** What a framework integration does: a context with more in it, and fields it built itself. */
interface TaggedContext extends TaskContext {
  readonly tag: unknown
}

class TaggingScheduler extends Scheduler {
  readonly made: TaskContext[] = []

  spawnTagged(name: string, fn: (context: TaggedContext) => unknown, fields: TrustedSpawnFields, orThrow = true): TaskHandle | undefined {
    return this.spawnTrusted(name, fn as TaskFunction, fields, orThrow)
  }

  protected override taskContext(task: TaskContext & TaskHandle): TaskContext {
    const context: TaggedContext = Object.assign(Object.create(task) as TaskContext, { tag: task.data })
    this.made.push(context)
    return context
  }
}

describe('extending the scheduler (taskContext, spawnTrusted)', () => {
  it('gives every task function the context taskContext makes, once, when the task starts', async () => {
    const scheduler = new TaggingScheduler({ clock: new ManualClock(), concurrency: 1 })
    const seen: unknown[] = []
    const first = scheduler.spawn('first', hang)
    const second = scheduler.spawn('second', (context) => seen.push((context as TaggedContext).tag, context.name), { data: 'b' })
    assert.equal(scheduler.made.length, 1, 'the waiting task has no context yet')
    first.cancel()
    await second.settled
    assert.deepEqual(seen, ['b', 'second'])
    assert.equal(scheduler.made.length, 2)
  })

  it('spawnTrusted keeps the fields it was given, with the default priority and timeout and no key', async () => {
    const scheduler = new TaggingScheduler({ clock: new ManualClock(), timeout: 1234 })
    const labels = Object.freeze({ route: '/orders' })
    const meta = { requestId: 'r-1' }
    let tag: unknown
    const handle = scheduler.spawnTagged('trusted', (context) => (tag = context.tag), { labels, meta, data: 'log' })!
    await handle.settled
    assert.equal(handle.state, 'completed')
    assert.equal(handle.labels, labels)
    assert.equal(handle.meta, meta)
    assert.equal(handle.data, 'log')
    assert.equal(tag, 'log')
    assert.equal(handle.priority, 'normal')
    assert.equal(handle.timeout, 1234)
  })

  it('spawnTrusted still checks the name and the function, and refuses like spawn or trySpawn', async () => {
    const scheduler = new TaggingScheduler({ clock: new ManualClock(), concurrency: 1, maxQueue: 0 })
    assert.throws(() => scheduler.spawnTagged('', () => 1, {}), InvalidOptionError)
    assert.throws(() => scheduler.spawnTagged('x', 'not a function' as unknown as () => unknown, {}), InvalidOptionError)
    const holder = scheduler.spawn('holder', hang)
    assert.throws(() => scheduler.spawnTagged('full', () => 1, {}), AdmissionError)
    assert.equal(
      scheduler.spawnTagged('full', () => 1, {}, false),
      undefined,
    )
    assert.equal(scheduler.summary().rejected.queue_full, 2)
    holder.cancel()
    await scheduler.close({ timeout: 0 })
  })
})
