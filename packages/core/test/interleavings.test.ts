import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Outcome, TaskHandle } from '../src/index.js'
import { deferred, flush, manualScheduler, random } from './helpers.js'

const KINDS = ['value', 'throw', 'resolve-later', 'reject-later', 'honours-abort', 'ignores-abort'] as const

/** What the seeds exercised, summed over all of them, so the checks below are known to have run. */
const exercised = {
  givenUpSteps: 0,
  capReached: 0,
  outcomes: { completed: 0, failed: 0, cancelled: 0, timed_out: 0, dropped: 0 } as Record<Outcome, number>,
  releases: new Set<string>(),
}

async function run(seed: number): Promise<void> {
  const rnd = random(seed)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)]!
  const concurrency = 1 + Math.floor(rnd() * 4)
  const { scheduler, clock } = manualScheduler({
    concurrency,
    maxQueue: Math.floor(rnd() * 6),
    overflow: pick(['reject', 'drop_oldest', 'drop_lowest_priority'] as const),
    timeout: 50 + Math.floor(rnd() * 200),
    abortGrace: 20 + Math.floor(rnd() * 100),
    maxGivenUpPerName: Math.floor(rnd() * 4),
    maxGivenUp: Math.floor(rnd() * 8),
    givenUpTtl: rnd() < 0.5 ? Infinity : 100 + Math.floor(rnd() * 400),
    agingInterval: 100,
  })
  const { maxGivenUpPerName, maxGivenUp } = scheduler.summary().limits
  const settledEvents = new Map<string, number>()
  scheduler.subscribe({ settled: (task) => settledEvents.set(task.id, (settledEvents.get(task.id) ?? 0) + 1) })
  const handles: TaskHandle[] = []
  const releases: (() => void)[] = []
  let maxRunning = 0
  let closing: Promise<unknown> | undefined

  for (let step = 0; step < 120; step++) {
    const op = rnd()
    if (op < 0.45 && closing === undefined) {
      const kind = pick(KINDS)
      const gate = deferred()
      releases.push(() => gate.resolve())
      try {
        handles.push(
          scheduler.spawn(
            kind,
            ({ signal }) => {
              switch (kind) {
                case 'value':
                  return 1
                case 'throw':
                  throw new Error('sync')
                case 'resolve-later':
                  return gate.promise
                case 'reject-later':
                  return gate.promise.then(() => Promise.reject(new Error('later')))
                case 'honours-abort':
                  return new Promise((resolve, reject) => {
                    signal.addEventListener('abort', () => reject(signal.reason as Error))
                    void gate.promise.then(resolve)
                  })
                case 'ignores-abort':
                  return gate.promise
              }
            },
            {
              priority: pick(['critical', 'high', 'normal', 'low'] as const),
              key: rnd() < 0.2 ? `k${Math.floor(rnd() * 3)}` : undefined,
              onDuplicate: pick(['join', 'replace'] as const),
            } as never,
          ),
        )
      } catch (error) {
        assert.match(String((error as Error).name), /QueueFullError|ClosingError/)
      }
    } else if (op < 0.6 && handles.length > 0) {
      pick(handles).cancel(pick(['caller', 'operator'] as const))
    } else if (op < 0.75) {
      clock.advance(Math.floor(rnd() * 120))
    } else if (op < 0.9 && releases.length > 0) {
      releases.splice(Math.floor(rnd() * releases.length), 1)[0]!()
    } else if (op < 0.93 && closing === undefined) {
      closing = scheduler.close({ timeout: Math.floor(rnd() * 200) })
    }
    await flush(1)
    const { live } = scheduler.summary()
    maxRunning = Math.max(maxRunning, live.running)
    // The tasks the drain itself aborts at its deadline are waited for abortGrace whatever the caps:
    // at most `concurrency` more, while closing.
    const slack = scheduler.closing ? concurrency : 0
    assert.ok(live.aborting <= maxGivenUp + slack, `seed ${seed}: ${live.aborting} given up with maxGivenUp ${maxGivenUp}`)
    const givenUpByName = new Map<string, number>()
    for (const group of scheduler.groups()) {
      if (group.state === 'aborting') givenUpByName.set(group.name, (givenUpByName.get(group.name) ?? 0) + group.count)
    }
    if (givenUpByName.size > 0) exercised.givenUpSteps++
    for (const [name, count] of givenUpByName) {
      assert.ok(count <= maxGivenUpPerName + slack, `seed ${seed}: ${count} given-up ${name} with maxGivenUpPerName ${maxGivenUpPerName}`)
      if (count === maxGivenUpPerName) exercised.capReached++
    }
  }
  // Let everything finish: release every gate, run out every clock.
  for (const release of releases) release()
  closing ??= scheduler.close({ timeout: 1_000 })
  for (let i = 0; i < 20 && scheduler.liveCount > 0; i++) {
    clock.advance(1_000)
    await flush(2)
  }
  clock.advance(10_000)
  await closing

  assert.ok(maxRunning <= concurrency, `seed ${seed}: ${maxRunning} running with concurrency ${concurrency}`)
  assert.equal(scheduler.liveCount, 0, `seed ${seed}: all tasks terminal`)
  const unique = [...new Set(handles)]
  const outcomes: Record<Outcome, number> = { completed: 0, failed: 0, cancelled: 0, timed_out: 0, dropped: 0 }
  for (const handle of unique) {
    assert.equal(settledEvents.get(handle.id), 1, `seed ${seed}: task ${handle.id} (${handle.name}) settled exactly once`)
    const settlement = await handle.settled
    assert.equal(settlement.outcome, handle.state, `seed ${seed}: settlement matches the final state`)
    outcomes[settlement.outcome]++
    exercised.outcomes[settlement.outcome]++
    if (handle.release !== undefined) exercised.releases.add(handle.release)
  }
  const summary = scheduler.summary()
  assert.equal(summary.spawned, unique.length, `seed ${seed}`)
  assert.deepEqual(summary.outcomes, outcomes, `seed ${seed}`)
}

describe('randomized interleavings of spawn, cancel, timeout, settle and close', () => {
  it(
    'every task reaches exactly one terminal state, exactly once, and neither slots nor the given-up set overcommit (200 seeds)',
    { timeout: 60_000 },
    async () => {
      for (let seed = 1; seed <= 200; seed++) await run(seed)
      // The seeds reached every case the checks above are about.
      assert.ok(exercised.givenUpSteps > 0, 'some steps had given-up tasks')
      assert.ok(exercised.capReached > 0, 'some name reached its given-up cap')
      for (const [outcome, count] of Object.entries(exercised.outcomes)) assert.ok(count > 0, `some task ended ${outcome}`)
      assert.deepEqual([...exercised.releases].sort(), ['closed', 'evicted', 'expired'])
    },
  )
})
