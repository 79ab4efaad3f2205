import { InvalidOptionError } from '@fastify-tasks/core'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import type { Registry } from 'prom-client'
import { ESSENTIAL_ROUTE } from './backpressure.js'

/** Options of the `/metrics` route plugin. */
export interface MetricsRouteOptions {
  /** @default '/metrics' */
  path?: string
  /** The registry to expose. @default the one of `app.tasks.metrics` */
  registry?: Registry
}

/**
 * `GET /metrics`: the Prometheus exposition of a registry, in the content type Prometheus expects.
 * Encapsulated: mount it under a prefix or behind your own hooks. The default export registers it
 * unless `metrics: false` or `metrics.route: false`.
 */
export const metricsRoute: FastifyPluginAsync<MetricsRouteOptions> = async (fastify: FastifyInstance, options) => {
  const path = options.path ?? '/metrics'
  if (typeof path !== 'string' || !path.startsWith('/')) throw new InvalidOptionError('metrics.path', "a path starting with '/'", path)
  const registry = options.registry ?? (fastify.hasDecorator('tasks') ? fastify.tasks.metrics?.registry : undefined)
  if (registry === undefined) {
    throw new InvalidOptionError('metricsRoute', 'fastify-tasks registered with metrics on a parent, or a registry option', 'none')
  }
  fastify.get(path, { config: { ...ESSENTIAL_ROUTE } }, async (_request, reply) => {
    void reply.type(registry.contentType).header('cache-control', 'no-store')
    return registry.metrics()
  })
}
