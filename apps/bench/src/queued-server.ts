/**
 * The server of the queued-server scenario, run in its own process by `queued-latency.ts`:
 * `node dist/queued-server.js <variant>` (see `queued-variants.ts`). The HTTP benchmark's hello world
 * with fastify-tasks registered (`limits-options.ts`), holding tasks or not; listens on 127.0.0.1, on
 * a port the system picks, and speaks the protocol in `queued-protocol.ts`.
 */
import type { AddressInfo } from 'node:net'
import { createInterface } from 'node:readline'
import type { TaskContext } from '@fastify-tasks/core'
import Fastify from 'fastify'
import fastifyTasks from 'fastify-tasks'
import { HOST } from './http-protocol.js'
import { QUEUED_SERVER_OPTIONS } from './limits-options.js'
import { STATS_COMMAND, type QueuedServerStats } from './queued-protocol.js'
import { HELD_TASK_NAME, HELD_WAITING, isQueuedVariant, QUEUED_VARIANTS } from './queued-variants.js'
import { readLimit } from './read-limit.js'

const variant = process.argv[2]
if (!isQueuedVariant(variant)) throw new Error(`usage: queued-server.js <${QUEUED_VARIANTS.join('|')}>, got ${String(variant)}`)

const app = Fastify({ logger: false })
await app.register(fastifyTasks, QUEUED_SERVER_OPTIONS)
app.get('/', async () => ({ hello: 'world' }))
await app.ready()

/** A held task: settles only when its signal aborts. Made once. */
const held = ({ signal }: TaskContext): Promise<never> =>
  new Promise<never>((_, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true })
  })

// Both variants spawn the same tasks at startup, so that both processes have done the same work
// (and grown their heaps alike: a young generation grown by the spawns collects less often) when
// the load starts; the empty one then cancels them all.
const slots = readLimit(app.tasks, HELD_TASK_NAME)
const options = { timeout: Infinity } as const
for (let i = 0; i < slots + HELD_WAITING; i++) app.tasks.spawn(HELD_TASK_NAME, held, options)
if (variant === 'empty') {
  app.tasks.cancelWhere(() => true)
  await app.tasks.onIdle()
  // The aborted tasks settle as their signals' abort events reject them: a turn later at most.
  await new Promise<void>((resolve) => setImmediate(resolve))
}
const { live } = app.tasks.summary()
const expected = variant === 'empty' ? 0 : HELD_WAITING
if (variant === 'empty' ? live.total !== 0 : live.pending < HELD_WAITING) {
  throw new Error(`queued-server (${variant}): ${live.pending} tasks waiting and ${live.total} live, expected ${expected} waiting`)
}

// Spawning (and cancelling) eleven thousand tasks blocks the loop for a moment: the plugin then
// counts the process as overloaded, and answers 503, for its hold time. Serve once that has passed
// (bounded: past it, the load generator's warm-up reports the 503s).
for (let waited = 0; app.tasks.eventLoop.snapshot().overloaded && waited < 10_000; waited += 50) {
  await new Promise<void>((resolve) => setTimeout(resolve, 50))
}

await app.listen({ host: HOST, port: 0 })
process.stdout.write(`${(app.server.address() as AddressInfo).port}\n`)

function stats(): QueuedServerStats {
  const { live } = app.tasks.summary()
  return { ...process.cpuUsage(), pending: live.pending, running: live.running }
}

const commands = createInterface({ input: process.stdin })
commands.on('line', (line) => {
  if (line === STATS_COMMAND) process.stdout.write(`${JSON.stringify(stats())}\n`)
  else process.stderr.write(`queued-server: unknown command ${JSON.stringify(line)}\n`)
})
// stdin ends when the benchmark closes it or dies: never outlive it. The held tasks are dropped or aborted, not drained.
commands.on('close', () => {
  app.tasks.drainTimeout = 0
  app.close().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`queued-server: close failed: ${String(error)}\n`)
      process.exit(1)
    },
  )
})
