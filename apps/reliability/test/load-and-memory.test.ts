import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { buildApp, flush } from './helpers.js'

const gc = (globalThis as { gc?: () => void }).gc

function heap(): number {
  gc!()
  gc!()
  return process.memoryUsage().heapUsed
}

async function medianLatency(app: Awaited<ReturnType<typeof buildApp>>['app'], url: string, n: number): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < n; i++) {
    const start = performance.now()
    await app.inject(url)
    times.push(performance.now() - start)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(n / 2)]!
}

describe('load and memory', { skip: gc === undefined ? 'needs --expose-gc' : false }, () => {
  it('a burst far larger than the queue: the excess gets 503, memory stays bounded, latency recovers', async (t) => {
    const { app } = await buildApp({ concurrency: 50, maxQueue: 500, timeout: 5_000, backpressure: false }, false)
    app.post('/order', async (request, reply) => {
      request.tasks.spawn('mail', () => new Promise((resolve) => setTimeout(resolve, 50)))
      return reply.code(202).send()
    })
    app.get('/ping', async () => 'pong')
    await app.ready()
    const baseline = await medianLatency(app, '/ping', 200)
    const heapBefore = heap()
    const burst = 20_000
    const statuses = new Map<number, number>()
    let retryAfter = 0
    for (let sent = 0; sent < burst; sent += 1_000) {
      const responses = await Promise.all(Array.from({ length: 1_000 }, () => app.inject({ method: 'POST', url: '/order' })))
      for (const r of responses) {
        statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1)
        if (r.statusCode === 503 && r.headers['retry-after'] !== undefined) retryAfter++
      }
    }
    assert.ok(app.tasks.size <= 550, `live tasks bounded by concurrency + queue (${app.tasks.size})`)
    // inject() itself keeps each request (~8 KiB, plain Fastify too) for a little while after it answers.
    await new Promise((resolve) => setTimeout(resolve, 120))
    const liveAtPeak = app.tasks.size
    const heapPeak = heap()
    for (let i = 0; i < 200 && app.tasks.size > 0; i++) await new Promise((resolve) => setTimeout(resolve, 25))
    await flush()
    const after = await medianLatency(app, '/ping', 200)
    const heapAfter = heap()
    const accepted = statuses.get(202) ?? 0
    const refused = statuses.get(503) ?? 0
    assert.equal(accepted + refused, burst)
    assert.ok(refused > burst / 2, `most of the burst was refused (${refused})`)
    assert.equal(retryAfter, refused, 'every 503 carries Retry-After')
    assert.equal(app.tasks.size, 0, 'the backlog drained')
    // Memory is bounded by construction (live tasks never exceed concurrency + queue, asserted above);
    // the heap at the peak also holds inject()'s own request objects, freed shortly after, so only
    // the heap once the backlog drained is held to a bound.
    assert.ok(heapAfter - heapBefore < 8 * 1024 * 1024, `heap grew ${((heapAfter - heapBefore) / 1048576).toFixed(1)} MiB over the burst`)
    assert.ok(after < Math.max(baseline * 3, baseline + 2), `latency recovered: median ${after.toFixed(3)} ms after vs ${baseline.toFixed(3)} ms before`)
    t.diagnostic(
      `burst of ${burst} into concurrency 50 + queue 500: ${accepted} accepted, ${refused} answered 503 (all with Retry-After); ` +
        `heap +${((heapPeak - heapBefore) / 1048576).toFixed(1)} MiB with ${liveAtPeak} tasks still live, +${((heapAfter - heapBefore) / 1048576).toFixed(1)} MiB after; ` +
        `median /ping ${baseline.toFixed(3)} ms before, ${after.toFixed(3)} ms after`,
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
        assert.ok(responses.every((r) => r.statusCode === 202), 'every batch admitted')
        // Let the batch drain (the scheduler spreads long runs of starts over turns of the loop).
        for (let i = 0; i < 20_000 && app.tasks.size > 0; i++) await flush(1)
      }
    }
    await run(1_000) // 50 000 tasks: warm up every code path
    const before = heap()
    const started = performance.now()
    await run(20_000) // 1 000 000 tasks
    const seconds = (performance.now() - started) / 1000
    const after = heap()
    const grew = after - before
    const summary = app.tasks.summary()
    assert.equal(summary.outcomes.completed, 21_000 * PER_REQUEST)
    assert.equal(app.tasks.size, 0)
    // A leaked task record would be ~300 bytes a task (300 MB here); allow 8 bytes a task of noise.
    assert.ok(grew < 8 * 1024 * 1024, `heap grew ${grew} bytes over 1 000 000 tasks`)
    t.diagnostic(`soak: 1 000 000 tasks through 20 000 requests in ${seconds.toFixed(1)} s; heap ${(before / 1048576).toFixed(1)} MiB before, ${(after / 1048576).toFixed(1)} MiB after (${grew >= 0 ? '+' : ''}${(grew / 1024).toFixed(0)} KiB)`)
    await app.close()
  })
})
