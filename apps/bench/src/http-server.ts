/**
 * The server of the HTTP throughput benchmark, run in its own process by `http-throughput.ts`:
 * `node dist/http-server.js <variant>` (see `http-variants.ts`). Listens on 127.0.0.1, on a port the
 * system picks, and speaks the protocol in `http-protocol.ts`.
 */
import type { AddressInfo } from 'node:net'
import { createInterface } from 'node:readline'
import Fastify from 'fastify'
import fastifyTasks from 'fastify-tasks'
import { CPU_COMMAND, HOST } from './http-protocol.js'
import { HTTP_VARIANTS, isHttpVariant } from './http-variants.js'

const variant = process.argv[2]
if (!isHttpVariant(variant)) throw new Error(`usage: http-server.js <${HTTP_VARIANTS.join('|')}>, got ${String(variant)}`)

const app = Fastify({ logger: false })
if (variant === 'idle-nohttp') await app.register(fastifyTasks, { metrics: { http: false } })
else if (variant !== 'plain') await app.register(fastifyTasks)

// No per-request closure: the handlers and the task are created once.
const resolveAtOnce = async (): Promise<void> => {}
if (variant === 'spawn') {
  app.get('/', async (request) => {
    request.tasks.spawn('bench', resolveAtOnce)
    return { hello: 'world' }
  })
} else {
  app.get('/', async () => ({ hello: 'world' }))
}

await app.listen({ host: HOST, port: 0 })
process.stdout.write(`${(app.server.address() as AddressInfo).port}\n`)

const commands = createInterface({ input: process.stdin })
commands.on('line', (line) => {
  if (line === CPU_COMMAND) process.stdout.write(`${JSON.stringify(process.cpuUsage())}\n`)
  else process.stderr.write(`http-server: unknown command ${JSON.stringify(line)}\n`)
})
// stdin ends when the benchmark closes it or dies: never outlive it.
commands.on('close', () => {
  app.close().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`http-server: close failed: ${String(error)}\n`)
      process.exit(1)
    },
  )
})
