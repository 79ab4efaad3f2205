import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { OverloadedError, Scheduler } from '@fastify-tasks/core'
import underPressure from '@fastify/under-pressure'
import Fastify from 'fastify'
import { ManualClock } from '@fastify-tasks/core/testing'
import fastifyTasks, { ESSENTIAL_ROUTE } from '../src/index.js'
// The machinery behind the plugin is not exported: its tests import it from its modules.
import { Backpressure } from '../src/backpressure/backpressure.js'
import { ConcurrencyController } from '../src/backpressure/concurrency-controller.js'
import { EventLoopMonitor } from '../src/backpressure/event-loop-monitor.js'
import { OverloadDetector } from '../src/backpressure/overload-detector.js'
import { FedSampler, flush } from './helpers.js'

describe('the overload detector (fed measurements, step by step)', () => {
  it('trips on a late tick, on a window p99 above the threshold, or on utilization; holds, then clears', () => {
    const d = new OverloadDetector({ maxDelay: 100, maxUtilization: 0.9, holdFor: 1_000, holdAfterBlock: 100 })
    d.tick(0, 5)
    d.window(0, 40, 0.5)
    assert.equal(d.overloaded(0), false)
    d.tick(10, 450) // the loop was blocked for ~450 ms
    assert.equal(d.overloaded(10), true)
    assert.equal(d.signal(10), 'event_loop_blocked')
    assert.equal(d.overloaded(459), true)
    assert.equal(d.overloaded(460), false, 'a block holds as long as it lasted')
    assert.equal(d.signal(460), null)
    d.tick(500, 120) // a 120 ms block holds for 120 ms
    assert.equal(d.overloaded(619), true)
    assert.equal(d.overloaded(620), false)
    d.window(1_000, 150, 0.5)
    assert.equal(d.signal(1_000), 'event_loop_delay')
    assert.equal(d.overloaded(1_999), true, 'a window holds for holdFor')
    assert.equal(d.overloaded(2_000), false)
    d.window(2_000, 150, 0.5)
    assert.equal(d.signal(2_000), 'event_loop_delay')
    d.window(3_500, 20, 0.95)
    assert.equal(d.signal(3_500), 'event_loop_utilization')
    assert.equal(d.since(3_500), 3_500, 'a new overload after a clear one')
    assert.deepEqual(d.trips, { event_loop_blocked: 2, event_loop_delay: 2, event_loop_utilization: 1 })
  })
})

describe('adaptive concurrency (AIMD, step by step)', () => {
  it('shrinks multiplicatively above the target delay and grows back additively while tasks wait', () => {
    const c = new ConcurrencyController(100, { targetDelay: 50, min: 5 })
    assert.equal(c.increase, 5)
    assert.deepEqual([c.step(80, false, 10), c.step(80, false, 10), c.step(10, true, 10)], [70, 49, 34])
    let limit = 0
    for (let i = 0; i < 10; i++) limit = c.step(300, false, 0)
    assert.equal(limit, 5, 'never below min')
    assert.equal(c.step(10, false, 0), 5, 'no growth without waiting tasks')
    assert.deepEqual([c.step(10, false, 3), c.step(10, false, 3)], [10, 15])
    for (let i = 0; i < 100; i++) limit = c.step(10, false, 3)
    assert.equal(limit, 100, 'never above the configured concurrency')
    assert.deepEqual(c.adjustments, { decreases: 8, increases: 19 }) // 100→70→49→34→23→16→11→7→5
  })

  it('rejects bad settings, naming them', () => {
    assert.throws(() => new ConcurrencyController(10, { min: 20 }), /backpressure\.adaptive\.min/)
    assert.throws(() => new ConcurrencyController(10, { decrease: 1 }), /backpressure\.adaptive\.decrease/)
    assert.throws(() => new ConcurrencyController(10, { targetDelay: 0 }), /backpressure\.adaptive\.targetDelay/)
  })
})

/**
 * Backpressure on a real event-loop monitor, on a manual clock and fed measurements: `overload()`
 * closes a window whose p99 lag is over maxDelay (100 ms), which holds the overload for holdFor (the
 * 1 s window); `calm()` closes one at 10 ms, after which the overload has run out.
 */
async function harness(options: ConstructorParameters<typeof Backpressure>[1], concurrency = 100) {
  const clock = new ManualClock()
  const sampler = new FedSampler()
  const monitor = new EventLoopMonitor({ maxDelay: 100, window: 1_000 }, clock, sampler)
  const backpressure = new Backpressure(monitor, options)
  const scheduler = new Scheduler({
    concurrency,
    admission: backpressure.admission,
    startGate: backpressure.startGate,
    timeout: Infinity,
    clock,
  })
  const app = Fastify()
  await backpressure.attach(app, scheduler, 2)
  app.get('/ordinary', async () => 'ok')
  app.get('/health', { config: { ...ESSENTIAL_ROUTE } }, async () => 'alive')
  monitor.start()
  app.addHook('onClose', async () => monitor.stop())
  /** Closes the next window with this p99 lag (ms). */
  const closeWindow = (p99: number): void => {
    sampler.p99 = p99
    clock.advance(1_000)
  }
  return { monitor, backpressure, scheduler, app, clock, closeWindow, overload: () => closeWindow(500), calm: () => closeWindow(10) }
}

describe('backpressure with a fed event-loop monitor on a manual clock', () => {
  it('sheds spawns below admitWhenOverloaded with OverloadedError while critical work is admitted', async () => {
    const { monitor, scheduler, app, overload, calm } = await harness({ underPressure: false })
    overload()
    assert.equal(monitor.overloaded, true)
    for (const priority of ['low', 'normal'] as const) {
      assert.throws(
        () => scheduler.spawn('report', () => 1, { priority }),
        (e: unknown) => e instanceof OverloadedError && e.code === 'FT_OVERLOADED',
      )
    }
    assert.equal(scheduler.spawn('charge', () => 1, { priority: 'critical' }).state, 'completed')
    assert.equal(scheduler.spawn('notify', () => 1, { priority: 'high' }).state, 'completed')
    calm()
    assert.equal(monitor.overloaded, false)
    assert.equal(scheduler.spawn('report', () => 1, { priority: 'low' }).state, 'completed')
    assert.equal(scheduler.summary().rejected.overloaded, 2)
    await app.close()
  })

  it('tells adaptive limits why the process is under pressure, and nothing when it is not', async () => {
    const { backpressure, app, overload, calm } = await harness({ underPressure: false })
    assert.equal(backpressure.pressure(), undefined)
    overload()
    assert.equal(backpressure.pressure(), 'event_loop_delay')
    calm()
    assert.equal(backpressure.pressure(), undefined)
    await app.close()
  })

  it('tells adaptive limits when the under-pressure it registered passes its heap threshold', async () => {
    const app = Fastify()
    await app.register(fastifyTasks, {
      eventLoop: { window: 100 },
      backpressure: { requests: false, underPressure: { maxHeapUsedBytes: 1, statusRoute: false } },
    })
    await app.ready()
    // under-pressure reads the heap once per window: wait for its first reading (bounded).
    for (let i = 0; i < 100 && app.tasks.backpressure!.pressure() === undefined; i++)
      await new Promise((resolve) => setTimeout(resolve, 20))
    assert.equal(app.tasks.backpressure!.pressure(), 'under_pressure')
    assert.equal(app.tasks.backpressure!.state().underPressure, 'registered')
    await app.close()
  })

  it("onOverload: 'defer' queues shed work and starts it when the overload passes", async () => {
    const { scheduler, backpressure, app, clock, overload, calm } = await harness({
      underPressure: false,
      onOverload: 'defer',
      admitWhenOverloaded: 'critical',
    })
    overload()
    const low = scheduler.spawn('reindex', () => 'done', { priority: 'low' })
    const critical = scheduler.spawn('charge', () => 'ok', { priority: 'critical' })
    assert.equal(low.state, 'pending')
    assert.equal(critical.state, 'completed')
    clock.advance(999)
    assert.equal(low.state, 'pending', 'held while overloaded')
    calm()
    assert.deepEqual(await low.settled, { outcome: 'completed', value: 'done' })
    assert.equal(scheduler.summary().deferred, 1)
    assert.equal(backpressure.state().onOverload, 'defer')
    await app.close()
  })

  it('answers 503 with Retry-After for ordinary routes, naming the signal, and keeps essential routes answering', async () => {
    const { backpressure, app, overload } = await harness({ underPressure: false })
    assert.equal((await app.inject('/ordinary')).statusCode, 200)
    overload()
    const shed = await app.inject('/ordinary')
    assert.equal(shed.statusCode, 503)
    assert.equal(shed.headers['retry-after'], '2')
    assert.equal(shed.json<{ code: string }>().code, 'FT_OVERLOADED_REQUEST')
    assert.match(shed.json<{ message: string }>().message, /\(event_loop_delay\)/)
    assert.equal((await app.inject('/health')).statusCode, 200)
    assert.equal(backpressure.state().requestsShed, 1)
    await app.close()
  })

  it('steps the effective concurrency on each window, within bounds', async () => {
    // p99 80 ms: above the 50 ms target, under the 100 ms maxDelay (not an overload).
    const { scheduler, backpressure, app, closeWindow, monitor } = await harness({
      underPressure: false,
      adaptive: { targetDelay: 50, min: 10 },
    })
    closeWindow(80)
    assert.equal(scheduler.concurrency, 70)
    closeWindow(80)
    assert.equal(scheduler.concurrency, 49)
    assert.equal(monitor.overloaded, false)
    for (let i = 0; i < 100; i++) scheduler.spawn('wait', () => new Promise(() => {}))
    closeWindow(10)
    assert.equal(scheduler.concurrency, 54, 'grows by 1/20 of the maximum while tasks wait')
    assert.deepEqual(backpressure.state().concurrency, { effective: 54, max: 100, min: 10, adaptive: true, decreases: 2, increases: 1 })
    await app.close()
  })
})

describe('backpressure in the plugin', () => {
  it('registers @fastify/under-pressure once, with a status route that keeps answering', async () => {
    const app = Fastify()
    await app.register(fastifyTasks)
    await app.ready()
    assert.equal(typeof (app as unknown as { isUnderPressure: () => boolean }).isUnderPressure, 'function')
    assert.equal(app.tasks.backpressure!.state().underPressure, 'registered')
    assert.equal((await app.inject('/status')).statusCode, 200)
    await app.close()
  })

  it("uses the app's own @fastify/under-pressure instance instead of a second one", async () => {
    const app = Fastify()
    await app.register(underPressure, { maxEventLoopDelay: 500 })
    await app.register(fastifyTasks)
    await app.ready()
    assert.equal(app.tasks.backpressure!.state().underPressure, 'existing')
    await app.close()
  })

  it('shows the backpressure in /debug/tasks and /metrics', async () => {
    const app = Fastify()
    await app.register(fastifyTasks, { concurrency: 40 })
    const report = (await app.inject('/debug/tasks')).json<{
      backpressure: { concurrency: { effective: number; max: number } }
      eventLoop: { overloadSignal: unknown }
    }>()
    assert.deepEqual([report.backpressure.concurrency.effective, report.backpressure.concurrency.max], [40, 40])
    assert.equal(report.eventLoop.overloadSignal, null)
    const metrics = (await app.inject('/metrics')).body
    assert.match(metrics, /^fastify_tasks_concurrency_limit 40$/m)
    assert.match(metrics, /^fastify_tasks_concurrency_max 40$/m)
    assert.match(metrics, /^fastify_tasks_overloaded 0$/m)
    assert.match(metrics, /^fastify_tasks_overload_trips_total\{signal="event_loop_blocked"\} 0$/m)
    assert.match(metrics, /^fastify_tasks_deferred_total 0$/m)
    await app.close()
    await flush(1)
  })

  it('rejects bad backpressure options, naming them', async () => {
    for (const [backpressure, option] of [
      [{ admitWhenOverloaded: 'urgent' }, 'backpressure.admitWhenOverloaded'],
      [{ onOverload: 'drop' }, 'backpressure.onOverload'],
      [{ requests: 'yes' }, 'backpressure.requests'],
      [{ adaptive: { min: 0 } }, 'backpressure.adaptive.min'],
      [{ underPressure: { statusRoute: 'status' } }, 'backpressure.underPressure.statusRoute'],
      ['on', 'backpressure'],
    ] as const) {
      const app = Fastify()
      await assert.rejects(
        async () => {
          await app.register(fastifyTasks, { backpressure } as never)
          await app.ready()
        },
        (error: unknown) => (error as { option?: string }).option === option,
        option,
      )
      await app.close()
    }
  })
})
