import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ManualClock } from '@fastify-tasks/core/testing'
import type { EventLoopOptions } from '../src/index.js'
import { EventLoopMonitor } from '../src/backpressure/event-loop-monitor.js'
import { BlockingClock, buildApp, FedSampler } from './helpers.js'

/** A started monitor on a clock that can block, fed by the test. */
function monitor(options: EventLoopOptions = {}): { clock: BlockingClock; sampler: FedSampler; monitor: EventLoopMonitor } {
  const clock = new BlockingClock()
  const sampler = new FedSampler()
  const m = new EventLoopMonitor({ window: 1_000, tick: 20, maxDelay: 200, holdAfterBlock: 100, ...options }, clock, sampler)
  m.start()
  return { clock, sampler, monitor: m }
}

describe('the event-loop monitor, on an injected clock and fed measurements', () => {
  it('closes a window every `window` ms of its clock, with what was measured over it', () => {
    const { clock, sampler, monitor: m } = monitor()
    const windows: [number, boolean][] = []
    m.onWindow((stats, overloaded) => windows.push([stats.delayMs.p99, overloaded]))
    assert.equal(m.snapshot().windowMs, 0, 'no window before the first one completes')
    sampler.p99 = 12.5
    sampler.utilization = 0.4567
    clock.advance(999)
    assert.deepEqual(windows, [])
    clock.advance(1)
    assert.deepEqual(windows, [[12.5, false]])
    const snapshot = m.snapshot()
    assert.deepEqual(snapshot.delayMs, { p50: 0, p90: 0, p99: 12.5, max: 12.5, mean: 0 })
    assert.equal(snapshot.utilization, 0.457, 'rounded to 0.001')
    assert.equal(snapshot.windowMs, 1_000)
    assert.equal(snapshot.overloaded, false)
    clock.advance(3_000)
    assert.equal(windows.length, 4)
  })

  it('a blocked loop trips event_loop_blocked on the late tick, for as long as the block lasted, and lands in the next window', () => {
    const { clock, monitor: m } = monitor({ holdFor: 1_000 })
    clock.advance(300)
    clock.block(450) // the tick due at 320 runs at 750: 430 ms late
    assert.equal(m.overloaded, true)
    const snapshot = m.snapshot()
    assert.equal(snapshot.overloadSignal, 'event_loop_blocked')
    assert.equal(snapshot.overloadedForMs, 0)
    assert.deepEqual(snapshot.trips, { event_loop_blocked: 1, event_loop_delay: 0, event_loop_utilization: 0 })
    clock.advance(429)
    assert.equal(m.overloaded, true)
    assert.equal(m.snapshot().overloadedForMs, 429)
    // The window open during the block closed on the first tick at or after 1 000 ms, 20 ms apart from 750.
    assert.equal(m.snapshot().windowMs, 1_010)
    clock.advance(1)
    assert.equal(m.overloaded, false, 'held as long as the block lasted (430 ms)')
    assert.equal(m.snapshot().overloadSignal, null)
    assert.equal(m.snapshot().overloadedForMs, null)
  })

  it('a short block holds for holdAfterBlock, a long one for holdFor; a tick late by maxDelay or less trips nothing', () => {
    const { clock, monitor: m } = monitor({ maxDelay: 50, holdAfterBlock: 100, holdFor: 500 })
    clock.block(60) // the tick due at 20 runs at 60: 40 ms late
    assert.equal(m.overloaded, false)
    clock.advance(20)
    clock.block(90) // the tick due at 100 runs at 170: 70 ms late
    assert.equal(m.snapshot().overloadSignal, 'event_loop_blocked')
    clock.advance(99)
    assert.equal(m.overloaded, true)
    clock.advance(1)
    assert.equal(m.overloaded, false, 'a 70 ms block holds for holdAfterBlock (100 ms)')
    clock.block(2_000)
    clock.advance(499)
    assert.equal(m.overloaded, true)
    clock.advance(1)
    assert.equal(m.overloaded, false, 'a 2 s block holds for holdFor (500 ms)')
    assert.equal(m.snapshot().trips.event_loop_blocked, 2)
  })

  it('a window whose p99 lag exceeds maxDelay trips event_loop_delay; one whose utilization exceeds maxUtilization trips event_loop_utilization; each holds for holdFor', () => {
    const { clock, sampler, monitor: m } = monitor({ holdFor: 1_500, maxUtilization: 0.9 })
    const seen: boolean[] = []
    m.onWindow((_, overloaded) => seen.push(overloaded))
    sampler.p99 = 250
    clock.advance(1_000)
    assert.equal(m.snapshot().overloadSignal, 'event_loop_delay')
    sampler.p99 = 10
    clock.advance(1_000)
    assert.equal(m.overloaded, true, 'still held at 2 000 ms')
    clock.advance(500)
    assert.equal(m.overloaded, false, 'cleared at 2 500 ms')
    sampler.utilization = 0.95
    clock.advance(500)
    assert.equal(m.snapshot().overloadSignal, 'event_loop_utilization')
    assert.deepEqual(seen, [true, true, true])
    assert.deepEqual(m.snapshot().trips, { event_loop_blocked: 0, event_loop_delay: 1, event_loop_utilization: 1 })
  })

  it('a throwing window listener does not stop the monitor; stop() releases the timer and the sampler, once', () => {
    const { clock, sampler, monitor: m } = monitor()
    let calls = 0
    m.onWindow(() => {
      throw new Error('listener bug')
    })
    m.onWindow(() => calls++)
    clock.advance(2_000)
    assert.equal(calls, 2)
    assert.equal(sampler.measuring, true)
    assert.equal(clock.pendingTimers, 1, 'one tick pending')
    m.stop()
    m.stop()
    assert.equal(m.running, false)
    assert.equal(sampler.measuring, false)
    assert.equal(clock.pendingTimers, 0)
    clock.advance(5_000)
    assert.equal(calls, 2, 'no window after stop')
  })
})

describe('the plugin runs its event-loop monitor on the scheduler clock', () => {
  it('a ManualClock given to the plugin drives the windows', async () => {
    const clock = new ManualClock()
    const { app } = await buildApp({ clock, eventLoop: { window: 500 } })
    await app.ready()
    assert.equal(app.tasks.eventLoop.clock, clock)
    assert.equal(app.tasks.eventLoop.snapshot().windowMs, 0)
    clock.advance(500)
    assert.equal(app.tasks.eventLoop.snapshot().windowMs, 500)
    await app.close()
    assert.equal(clock.pendingTimers, 0, 'closing stops the monitor')
  })
})
