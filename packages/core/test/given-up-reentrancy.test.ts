import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { CloseReport, TaskContext, TaskHandle } from '../src/index.js'
import { flush, hang, manualScheduler } from './helpers.js'

/** Settled events per task id. */
function countSettled(scheduler: ReturnType<typeof manualScheduler>['scheduler']): Map<string, number> {
  const counts = new Map<string, number>()
  scheduler.subscribe({ settled: (task) => void counts.set(task.id, (counts.get(task.id) ?? 0) + 1) })
  return counts
}

describe('the given-up set under re-entrant listeners and close (found in review)', () => {
  it('close() called from a settled listener while the drain releases given-up tasks: one drain, one terminal state each', async () => {
    const { scheduler, clock } = manualScheduler({ concurrency: 2, timeout: 10 })
    scheduler.spawn('a', hang)
    scheduler.spawn('b', hang)
    clock.advance(10) // both given up
    const counts = countSettled(scheduler)
    let inner: Promise<CloseReport> | undefined
    let closingInside: boolean | undefined
    scheduler.subscribe({
      settled() {
        if (inner !== undefined) return
        closingInside = scheduler.closing
        inner = scheduler.close({ timeout: 0 })
      },
    })
    const outer = scheduler.close({ timeout: 0 })
    assert.equal(closingInside, true, 'closing before the drain runs listeners')
    assert.equal(inner, outer, 'the same close')
    await outer
    assert.deepEqual([...counts.values()], [1, 1])
    const summary = scheduler.summary()
    assert.deepEqual([summary.outcomes.timed_out, summary.givenUp.closed], [2, 2])
  })

  it('a task that settles while the drain releases another is not released again', async () => {
    const { scheduler, clock } = manualScheduler({ concurrency: 2, abortGrace: 100 })
    let settleB: (value: unknown) => void = () => {}
    const a = scheduler.spawn('a', hang)
    scheduler.spawn('b', () => ({ then: (ok: (value: unknown) => void) => void (settleB = ok) }))
    scheduler.subscribe({ settled: (task) => void (task === a ? settleB('done') : undefined) })
    const counts = countSettled(scheduler)
    const closing = scheduler.close({ timeout: 0 })
    await flush()
    clock.advance(100)
    await closing
    assert.deepEqual([...counts.values()], [1, 1])
    const summary = scheduler.summary()
    assert.deepEqual([summary.outcomes.cancelled, summary.givenUp.closed], [2, 1])
  })

  it('a task cancelled with givenUpTtl shorter than abortGrace expires at the ttl', () => {
    const { scheduler, clock } = manualScheduler({ abortGrace: 5_000, givenUpTtl: 1_000 })
    const task = scheduler.spawn('a', hang)
    task.cancel()
    clock.advance(1_000)
    assert.deepEqual([task.state, task.release], ['cancelled', 'expired'])
  })

  it('tasks the drain aborts at its deadline get abortGrace whatever the per-name cap', async () => {
    const { scheduler, clock } = manualScheduler({ concurrency: 3, maxGivenUpPerName: 1, abortGrace: 1_000 })
    const polite = ({ signal }: TaskContext): Promise<never> =>
      new Promise((_, reject) => signal.addEventListener('abort', () => clock.setTimeout(() => reject(signal.reason as Error), 100)))
    const tasks: TaskHandle[] = [1, 2, 3].map(() => scheduler.spawn('mail', polite))
    const closing = scheduler.close({ timeout: 0 })
    await flush()
    clock.advance(100)
    await flush()
    clock.advance(1_000)
    const report = await closing
    assert.deepEqual(
      tasks.map((t) => [t.state, t.release]),
      [
        ['cancelled', undefined],
        ['cancelled', undefined],
        ['cancelled', undefined],
      ],
    )
    assert.deepEqual([report.aborted, report.unsettled, scheduler.summary().givenUp.late], [3, 0, 0])
  })

  it('a listener that gives up another task during an eviction cannot push a name past its cap', () => {
    const { scheduler } = manualScheduler({ concurrency: 4, maxGivenUpPerName: 1 })
    const spawnDep = (): TaskHandle => scheduler.spawn('dep', hang)
    const [x, y, z, w] = [spawnDep(), spawnDep(), spawnDep(), spawnDep()]
    scheduler.subscribe({ settled: (task) => void (task === x ? z.cancel() : undefined) })
    x.cancel()
    y.cancel() // evicts x; its listener gives up z meanwhile
    assert.equal(scheduler.summary().live.aborting, 1)
    w.cancel()
    assert.equal(scheduler.summary().live.aborting, 1)
  })

  it('close() started by a listener during an eviction still ends the task being given up at once', async () => {
    const { scheduler, clock } = manualScheduler({ concurrency: 3, maxGivenUpPerName: 1, abortGrace: 5_000 })
    const x = scheduler.spawn('dep', hang)
    const y = scheduler.spawn('dep', hang)
    scheduler.spawn('work', () => new Promise<void>((resolve) => clock.setTimeout(resolve, 1_000)))
    let closing: Promise<CloseReport> | undefined
    scheduler.subscribe({ settled: (task) => void (task === x ? (closing = scheduler.close({ timeout: 10_000 })) : undefined) })
    x.cancel()
    y.cancel() // evicts x, whose listener starts the drain
    assert.deepEqual([y.state, y.release], ['cancelled', 'closed'], 'given up while the drain waits: ended at once')
    clock.advance(1_000)
    const report = await closing!
    assert.equal(report.durationMs, 1_000, 'the drain waited for the work only')
  })

  it("onDuplicate 'replace' of a running task is admitted when its slot would take a waiting task", async () => {
    const { scheduler } = manualScheduler({ concurrency: 1, maxQueue: 1 })
    const old = scheduler.spawn('sync', hang, { key: 'k' })
    const waiting = scheduler.spawn('other', hang)
    const replacement = scheduler.spawn('sync', hang, { key: 'k', onDuplicate: 'replace' })
    assert.equal(old.abortReason, 'superseded')
    assert.equal(waiting.state, 'running', 'the freed slot went to the waiting task')
    assert.equal(replacement.state, 'pending')
    await flush()
  })
})
