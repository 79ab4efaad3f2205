import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { buildApp, flush } from './helpers.js'

// --expose-gc is not passed on to the test runner's child processes on every Node version (24 drops
// it): turn the flag on from here, and take the function from a fresh context.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as (() => void) | undefined

/**
 * The heap after full collections, with turns of the event loop between them: objects that are only
 * freed by finalizers or weak callbacks (inject()'s, on Node 22 and later) go on the second pass. The
 * 10 ms pauses are not waits for a state: they let the loop block in its poll phase, where the tasks
 * V8 posts for those callbacks run.
 */
async function heap(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc!()
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  gc!()
  return process.memoryUsage().heapUsed
}

describe('load and memory', { skip: gc === undefined ? 'needs --expose-gc' : false }, () => {
  it('a burst far larger than the queue: the excess gets 503, memory stays bounded, the service recovers', async (t) => {
    const { app } = await buildApp({ concurrency: 50, maxQueue: 500, timeout: 5_000, backpressure: false }, false)
    app.post('/order', async (request, reply) => {
      request.tasks.spawn('mail', () => new Promise((resolve) => setTimeout(resolve, 50)))
      return reply.code(202).send()
    })
    app.get('/ping', async () => 'pong')
    await app.ready()
    const heapBefore = await heap()
    const burst = 20_000
    const statuses = new Map<number, number>()
    let retryAfter = 0
    const sendBurst = async (): Promise<void> => {
      for (let sent = 0; sent < burst; sent += 1_000) {
        const responses = await Promise.all(Array.from({ length: 1_000 }, () => app.inject({ method: 'POST', url: '/order' })))
        for (const r of responses) {
          statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1)
          if (r.statusCode === 503 && r.headers['retry-after'] !== undefined) retryAfter++
        }
      }
    }
    // The backlog (at most 550 tasks of 50 ms, 50 at a time: about 0.6 s) drains.
    const drained = async (): Promise<void> => {
      await app.tasks.onIdle()
      await flush()
    }
    await sendBurst()
    assert.ok(app.tasks.liveCount <= 550, `live tasks bounded by concurrency + queue (${app.tasks.liveCount})`)
    const liveAtPeak = app.tasks.liveCount
    const heapPeak = await heap()
    await drained()
    const heapAfter = await heap()
    const accepted = statuses.get(202) ?? 0
    const refused = statuses.get(503) ?? 0
    assert.equal(accepted + refused, burst)
    assert.ok(refused > burst / 2, `most of the burst was refused (${refused})`)
    assert.equal(retryAfter, refused, 'every 503 carries Retry-After')
    assert.equal(app.tasks.liveCount, 0, 'the backlog drained')
    // Memory is bounded by construction (live tasks never exceed concurrency + queue, asserted above);
    // the heap at the peak also holds inject()'s own request objects (~8 KiB each, plain Fastify too),
    // freed shortly after, so only the heap once the backlog drained is held to a bound.
    // A first burst also warms up code and caches (about 2 MiB on Node 20, 22 and 24): bounded
    // loosely. What a leak would do is grow again with every burst, so the bound that matters is the
    // second burst's.
    assert.ok(
      heapAfter - heapBefore < 32 * 1024 * 1024,
      `heap grew ${((heapAfter - heapBefore) / 1048576).toFixed(1)} MiB over the first burst`,
    )
    // The service recovers: after the burst every request is answered, and new work is admitted again
    // up to the full capacity (concurrency + queue) and runs to completion.
    const pings = await Promise.all(Array.from({ length: 200 }, () => app.inject('/ping')))
    assert.deepEqual(
      new Set(pings.map((r) => `${r.statusCode} ${r.body}`)),
      new Set(['200 pong']),
      'every request after the burst answered',
    )
    const completedBefore = app.tasks.summary().outcomes.completed
    const again = await Promise.all(Array.from({ length: 550 }, () => app.inject({ method: 'POST', url: '/order' })))
    assert.deepEqual(new Set(again.map((r) => r.statusCode)), new Set([202]), 'the full capacity admits work again')
    await drained()
    assert.equal(app.tasks.liveCount, 0, 'the new work drained too')
    assert.equal(app.tasks.summary().outcomes.completed - completedBefore, 550, 'and every task of it completed')
    // A second burst of the same size leaves the heap where the first left it: nothing accumulates
    // per request or per refused spawn (4 MiB over 20 000 requests is 200 bytes each).
    const heapBeforeSecond = await heap()
    await sendBurst()
    await drained()
    const heapAfterSecond = await heap()
    assert.ok(
      heapAfterSecond - heapBeforeSecond < 4 * 1024 * 1024,
      `heap grew ${((heapAfterSecond - heapBeforeSecond) / 1048576).toFixed(1)} MiB over the second burst`,
    )
    t.diagnostic(
      `burst of ${burst} into concurrency 50 + queue 500: ${accepted} accepted, ${refused} answered 503 (all with Retry-After); ` +
        `heap +${((heapPeak - heapBefore) / 1048576).toFixed(1)} MiB with ${liveAtPeak} tasks still live, +${((heapAfter - heapBefore) / 1048576).toFixed(1)} MiB after; ` +
        `afterwards 200/200 pings answered and 550/550 new tasks admitted and completed; a second burst ${((heapAfterSecond - heapBeforeSecond) / 1048576).toFixed(1)} MiB`,
    )
    await app.close()
  })

  it('a soak of 1 000 000 short tasks through the HTTP path leaves the heap where it was', async (t) => {
    const { app } = await buildApp({ concurrency: 200, maxQueue: 10_000, backpressure: false }, false)
    const PER_REQUEST = 50
    app.post('/batch', async (request, reply) => {
      for (let i = 0; i < PER_REQUEST; i++) request.tasks.spawn(i % 2 === 0 ? 'audit' : 'notify', () => Promise.resolve(i))
      return reply.code(202).send()
    })
    await app.ready()
    const run = async (requests: number): Promise<void> => {
      for (let sent = 0; sent < requests; sent += 100) {
        const responses = await Promise.all(Array.from({ length: 100 }, () => app.inject({ method: 'POST', url: '/batch' })))
        assert.ok(
          responses.every((r) => r.statusCode === 202),
          'every batch admitted',
        )
        // Let the batch drain (the scheduler spreads long runs of starts over turns of the loop).
        for (let i = 0; i < 20_000 && app.tasks.liveCount > 0; i++) await flush(1)
      }
    }
    await run(1_000) // 50 000 tasks: warm up every code path
    const before = await heap()
    const started = performance.now()
    await run(20_000) // 1 000 000 tasks
    const seconds = (performance.now() - started) / 1000
    const after = await heap()
    const grew = after - before
    const summary = app.tasks.summary()
    assert.equal(summary.outcomes.completed, 21_000 * PER_REQUEST)
    assert.equal(app.tasks.liveCount, 0)
    // A leaked task record would be ~300 bytes a task (300 MB here); allow 8 bytes a task of noise.
    assert.ok(grew < 8 * 1024 * 1024, `heap grew ${grew} bytes over 1 000 000 tasks`)
    t.diagnostic(
      `soak: 1 000 000 tasks through 20 000 requests in ${seconds.toFixed(1)} s; heap ${(before / 1048576).toFixed(1)} MiB before, ${(after / 1048576).toFixed(1)} MiB after (${grew >= 0 ? '+' : ''}${(grew / 1024).toFixed(0)} KiB)`,
    )
    await app.close()
  })
})
