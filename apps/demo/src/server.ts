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
const base = server.address
app.log.info(
  { address: base, killAfterMs: server.killAfterMs },
  `demo ready at ${base} · traffic: pnpm --filter @fastify-tasks/demo traffic` +
    ` · live tasks: curl '${base}/debug/tasks?format=text' · metrics: curl '${base}/metrics'` +
    ` · Ctrl-C drains (running tasks get ${server.drainTimeouts.interrupt / 1000} s, then ${app.tasks.summary().limits.abortGrace / 1000} s more once aborted)`,
)
