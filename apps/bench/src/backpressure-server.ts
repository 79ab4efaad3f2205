/**
 * The server of the backpressure benchmark, run in its own process by `backpressure-latency.ts`:
 * `node dist/backpressure-server.js <variant>` (see `backpressure-variants.ts`). Serves
 * `GET /light` on 127.0.0.1, on a port the system picks; runs the background producer if the
 * variant has one; speaks the protocol in `backpressure-protocol.ts`.
 */
import type { AddressInfo } from 'node:net'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import Fastify from 'fastify'
import fastifyTasks from 'fastify-tasks'
import { startProducer } from './background-work.js'
import { LIGHT_PATH, STATS_COMMAND, type ServerStats } from './backpressure-protocol.js'
import { BACKPRESSURE_SERVERS, BACKPRESSURE_VARIANTS, isBackpressureVariant } from './backpressure-variants.js'
import { HOST } from './http-protocol.js'

const variant = process.argv[2]
if (!isBackpressureVariant(variant)) {
  throw new Error(`usage: backpressure-server.ts <${BACKPRESSURE_VARIANTS.join('|')}>, got ${String(variant)}`)
}
const setup = BACKPRESSURE_SERVERS[variant]

/** Sampling interval of the server's own event-loop delay histogram, ms (subtracted from its readings). */
const DELAY_RESOLUTION_MS = 1

const app = Fastify({ logger: false })
await app.register(fastifyTasks, setup.options)
const body = { ok: true, n: 1 }
app.get(LIGHT_PATH, async () => body)
await app.listen({ host: HOST, port: 0 })

const delay = monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS })
delay.enable()
const producer = setup.background ? startProducer(app.tasks) : undefined
process.stdout.write(`${(app.server.address() as AddressInfo).port}\n`)

/** A histogram value (ns, a whole timer interval) as delay in ms. */
const delayMs = (ns: number): number => Math.max(0, ns / 1e6 - DELAY_RESOLUTION_MS)

function stats(): ServerStats {
  const elu = performance.eventLoopUtilization()
  const summary = app.tasks.summary()
  const { outcomes } = summary
  const reading: ServerStats = {
    eluActiveMs: elu.active,
    eluIdleMs: elu.idle,
    delayP99Ms: delay.count > 0 ? delayMs(delay.percentile(99)) : 0,
    delayMaxMs: delay.count > 0 ? delayMs(delay.max) : 0,
    offered: producer?.counts.offered ?? 0,
    overloaded: producer?.counts.overloaded ?? 0,
    queueFull: producer?.counts.queueFull ?? 0,
    deferred: summary.deferred,
    completed: outcomes.completed,
    notCompleted: outcomes.failed + outcomes.timed_out + outcomes.cancelled + outcomes.dropped,
    pending: summary.live.pending,
    concurrency: summary.limits.concurrency,
  }
  delay.reset()
  return reading
}

const commands = createInterface({ input: process.stdin })
commands.on('line', (line) => {
  if (line === STATS_COMMAND) process.stdout.write(`${JSON.stringify(stats())}\n`)
  else process.stderr.write(`backpressure-server: unknown command ${JSON.stringify(line)}\n`)
})
// stdin ends when the benchmark closes it or dies: never outlive it. The backlog is dropped, not drained.
commands.on('close', () => {
  producer?.stop()
  delay.disable()
  app.tasks.drainTimeout = 0
  app.close().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`backpressure-server: close failed: ${String(error)}\n`)
      process.exit(1)
    },
  )
})
