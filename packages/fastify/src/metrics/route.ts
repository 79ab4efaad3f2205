import { InvalidOptionError } from '@fastify-tasks/core'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import type { Registry } from 'prom-client'
import { ESSENTIAL_ROUTE } from '../backpressure/backpressure.js'
import { resolveGuard, type DebugGuard } from '../guard.js'
import { renderExposition } from './exposition.js'

/** Options of the `/metrics` route plugin. */
export interface MetricsRouteOptions {
  /** @default '/metrics' */
  path?: string
  /** The registry to expose. @default the one of `app.tasks.metrics` */
  registry?: Registry
  /**
   * Requires `Authorization: Bearer <token>` (at least 16 characters; Prometheus sends it with
   * `authorization: { credentials: … }` in its scrape config). Give `token` or `guard`, not both.
   * @default none: the route answers anyone who can reach the port
   */
  token?: string
  /**
   * Your own `onRequest` check: throw (or reply) to refuse. `loopbackOnly` (exported) limits the
   * route to loopback peers, as the debug routes are by default.
   * @default none: the route answers anyone who can reach the port
   */
  guard?: DebugGuard
}

/**
 * `GET /metrics`: the Prometheus exposition of a registry, in the content type Prometheus expects:
 * what `registry.metrics()` writes, the plugin's own series rendered by themselves (see `exposition.ts`).
 * Encapsulated: mount it under a prefix or behind your own hooks. The default export registers it
 * unless `metrics: false` or `metrics.route: false`.
 *
 * Open by default, like most exporters: it shows task names and route templates to anyone who can
 * reach the port. Give it a `token` or a `guard` (`loopbackOnly`, say) to restrict it.
 */
export const metricsRoute: FastifyPluginAsync<MetricsRouteOptions> = async (fastify: FastifyInstance, options) => {
  const path = options.path ?? '/metrics'
  if (typeof path !== 'string' || !path.startsWith('/')) throw new InvalidOptionError('metrics.path', "a path starting with '/'", path)
  const registry = options.registry ?? (fastify.hasDecorator('tasks') ? fastify.tasks.metrics?.registry : undefined)
  if (registry === undefined) {
    throw new InvalidOptionError('metricsRoute', 'fastify-tasks registered with metrics on a parent, or a registry option', 'none')
  }
  const guard = resolveGuard('metrics', options.token, options.guard, undefined)
  if (guard !== undefined) {
    fastify.addHook('onRequest', async (request, reply) => {
      await guard(request, reply)
    })
  }
  fastify.get(path, { config: { ...ESSENTIAL_ROUTE } }, async (_request, reply) => {
    void reply.type(registry.contentType).header('cache-control', 'no-store')
    return renderExposition(registry)
  })
}
