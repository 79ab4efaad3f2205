/**
 * One in-process request, timed: `app.inject` runs the route through Fastify's whole request
 * lifecycle (hooks, validation, handler, serialization) without a socket, so the time is the
 * server-side cost of the route plus light-my-request's small fixed overhead.
 */
import type { FastifyInstance } from 'fastify'

export interface TimedResponse {
  /** From the call of `inject` to its resolution. */
  readonly ms: number
  /** Body size in bytes. */
  readonly bytes: number
  readonly body: string
}

/** `GET url`, timed. Throws on any status but 200: a broken measurement fails the bench. */
export async function timedGet(app: FastifyInstance, url: string): Promise<TimedResponse> {
  const start = performance.now()
  const response = await app.inject({ method: 'GET', url })
  const ms = performance.now() - start
  if (response.statusCode !== 200) {
    throw new Error(`GET ${url}: HTTP ${response.statusCode} ${response.body.slice(0, 200)}`)
  }
  return { ms, bytes: response.rawPayload.length, body: response.body }
}
