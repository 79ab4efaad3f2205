/** The demo's entrypoint: build the app, listen, and close gracefully on SIGTERM/SIGINT. */
import { listenGracefully } from 'fastify-tasks'
import { build } from './app.js'
import { loadConfig } from './config.js'

const config = loadConfig()
const app = await build(config)
const server = await listenGracefully(app, {
  listen: { port: config.port, host: config.host },
  drainTimeout: config.drainTimeout,
})
app.log.info(
  { address: server.address, killAfterMs: server.killAfterMs },
  `demo ready: in another terminal run \`pnpm --filter @fastify-tasks/demo traffic\`, then \`curl ${server.address}/debug/tasks?format=text\``,
)
