import { timingSafeEqual, createHash } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { InvalidOptionError } from '@fastify-tasks/core'
import { checkFunction, checkString } from '@fastify-tasks/core/validation'
import { DebugForbiddenError, DebugUnauthorizedError } from './errors.js'

/** A hook that decides who may use the debug routes: throw (or reply) to refuse. */
export type DebugGuard = (request: FastifyRequest, reply: FastifyReply) => void | Promise<void>

/**
 * `true` for loopback addresses: 127.0.0.0/8, ::1, and their IPv4-mapped IPv6 form. Judged on the
 * socket's address only: `X-Forwarded-For` and `Forwarded` are never consulted, whatever `trustProxy`
 * says, because anyone can send them.
 */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4) || address === '::1'
}

/** Refuses every peer whose socket is not on the loopback interface. */
export const loopbackOnly: DebugGuard = (request) => {
  const address = request.raw.socket.remoteAddress
  if (!isLoopback(address)) throw new DebugForbiddenError(address ?? 'unknown')
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest()

/** Requires `Authorization: Bearer <token>`, compared in constant time. */
export function bearerToken(token: string): DebugGuard {
  const expected = digest(token)
  return (request, reply) => {
    const header = request.headers.authorization
    const given = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : undefined
    if (given === undefined || !timingSafeEqual(digest(given), expected)) {
      void reply.header('www-authenticate', 'Bearer realm="fastify-tasks"')
      throw new DebugUnauthorizedError()
    }
  }
}

/**
 * The guard of a route from its `token` and `guard` options (one or the other), or `fallback` when
 * neither is given. Refuses bad values naming `where.token` / `where.guard`, and never echoes a token.
 */
export function resolveGuard<F extends DebugGuard | undefined>(where: string, token: unknown, guard: unknown, fallback: F): DebugGuard | F {
  // Never echo a secret into an error message (and so into logs): `secret` shows only its length.
  const bearer = token === undefined ? undefined : checkString(`${where}.token`, token, { minLength: 16, secret: true })
  const own = guard === undefined ? undefined : checkFunction<DebugGuard>(`${where}.guard`, guard, '(request, reply)')
  if (bearer !== undefined && own !== undefined)
    throw new InvalidOptionError(`${where}.guard`, 'no guard when a token is given (one or the other)', guard)
  if (own !== undefined) return own
  return bearer !== undefined ? bearerToken(bearer) : fallback
}
