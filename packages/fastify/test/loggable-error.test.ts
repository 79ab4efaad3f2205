import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import { loggableError } from '../src/logging/loggable-error.js'
import { buildApp, flush } from './helpers.js'

const trap = (): never => {
  throw new Error('trap')
}

const TRAPS = [
  'apply',
  'construct',
  'defineProperty',
  'deleteProperty',
  'get',
  'getOwnPropertyDescriptor',
  'getPrototypeOf',
  'has',
  'isExtensible',
  'ownKeys',
  'preventExtensions',
  'set',
  'setPrototypeOf',
] as const

function revokedProxy(): object {
  const { proxy, revoke } = Proxy.revocable({}, {})
  revoke()
  return proxy
}

function cyclicCause(): Error {
  const a = new Error('a')
  const b = new Error('b', { cause: a })
  a.cause = b
  return a
}

const TEN_MB = 10 * 1024 * 1024

/** Values that make the logger's `err` serializer throw, or that it cannot print as an Error. Made fresh per test. */
const HOSTILE: ReadonlyArray<readonly [label: string, make: () => unknown]> = [
  ['revoked proxy', revokedProxy],
  ['proxy whose getPrototypeOf trap throws', () => new Proxy({}, { getPrototypeOf: trap })],
  ['proxy of an Error whose get trap throws', () => new Proxy(new Error('behind a proxy'), { get: trap })],
  ['proxy whose has trap throws', () => new Proxy({}, { has: trap })],
  ['proxy of an Error whose ownKeys trap throws', () => new Proxy(new Error('x'), { ownKeys: trap })],
  ['proxy of an Error whose every trap throws', () => new Proxy(new Error('x'), Object.fromEntries(TRAPS.map((t) => [t, trap])))],
  ['Error whose name getter throws', () => Object.defineProperty(new Error('m'), 'name', { get: trap })],
  ['Error whose message getter throws', () => Object.defineProperty(new Error('m'), 'message', { get: trap })],
  ['Error whose stack getter throws', () => Object.defineProperty(new Error('m'), 'stack', { get: trap })],
  ['Error whose cause getter throws', () => Object.defineProperty(new Error('m'), 'cause', { get: trap })],
  ['Error caused by a revoked proxy', () => new Error('m', { cause: revokedProxy() })],
  ['Error whose cause is a throwing function', () => Object.assign(new Error('m'), { cause: trap })],
  ['Error with an enumerable getter that throws', () => Object.defineProperty(new Error('m'), 'extra', { get: trap, enumerable: true })],
  ['Error carrying a revoked proxy', () => Object.assign(new Error('m'), { extra: revokedProxy() })],
  ['Error whose constructor getter throws', () => Object.defineProperty(new Error('m'), 'constructor', { get: trap })],
  ['AggregateError of a revoked proxy', () => new AggregateError([revokedProxy()], 'm')],
  ['frozen Error', () => Object.freeze(new Error('m'))],
  ['sealed Error caused by an Error', () => new Error('m', { cause: Object.seal(new Error('c')) })],
  ['object whose toString throws', () => ({ toString: trap })],
  ['object whose Symbol.toPrimitive throws', () => ({ [Symbol.toPrimitive]: trap })],
  ['object whose toJSON throws', () => ({ toJSON: trap })],
  ['symbol', () => Symbol('hostile')],
  ['bigint', () => 10n ** 30n],
  ['null', () => null],
  ['undefined', () => undefined],
  ['10 MB string', () => 'x'.repeat(TEN_MB)],
  [
    'thenable whose then getter throws',
    () => ({
      get then(): never {
        return trap()
      },
    }),
  ],
  ['object with a null prototype', () => Object.create(null) as object],
]

/** Errors the serializer handles: passed through as they are. */
const PLAIN: ReadonlyArray<readonly [label: string, make: () => Error]> = [
  ['Error', () => new Error('plain')],
  ['TypeError with a cause', () => new TypeError('plain', { cause: new Error('below') })],
  ['Error with a cyclic cause chain', cyclicCause],
  ['AggregateError of Errors', () => new AggregateError([new Error('one'), new Error('two')], 'plain')],
  ['Error carrying data', () => Object.assign(new Error('plain'), { code: 'E_PLAIN', detail: { field: 'x', message: 'bad' } })],
  ['Error with a 10 MB message', () => new Error('x'.repeat(TEN_MB))],
  ['Error subclass', () => new (class CustomError extends Error {})('plain')],
]

/** An app whose logger writes into `lines`. */
function appWithLines(): { app: FastifyInstance; lines: string[] } {
  const lines: string[] = []
  const app = Fastify({ logger: { stream: { write: (line: string) => void lines.push(line) } } })
  return { app, lines }
}

/** The `err` field of the one line logged for `value`. */
function logOnce(value: unknown): Record<string, unknown> {
  const { app, lines } = appWithLines()
  app.log.error({ err: loggableError(value) }, 'background task failed')
  assert.equal(lines.length, 1, 'one line written')
  const line = JSON.parse(lines[0]!) as { err: unknown; msg: string }
  assert.equal(line.msg, 'background task failed')
  assert.equal(typeof line.err, 'object', 'err serialized as an object')
  return line.err as Record<string, unknown>
}

describe('loggableError', () => {
  for (const [label, make] of HOSTILE) {
    it(`turns a value the logger cannot serialize into a plain Error with a bounded summary (${label})`, () => {
      const value = make()
      const safe = loggableError(value)
      assert.ok(safe instanceof Error)
      assert.ok(safe !== value, 'replaced')
      assert.ok(safe.message.length <= 200, `${safe.message.length} characters`)
      const err = logOnce(value)
      assert.equal(err['message'], safe.message)
    })
  }

  for (const [label, make] of PLAIN) {
    it(`passes a plain Error through unchanged (${label})`, () => {
      const error = make()
      const keys = Reflect.ownKeys(error)
      assert.ok(loggableError(error) === error, 'passed through')
      assert.deepEqual(Reflect.ownKeys(error), keys, 'not changed')
      assert.ok(Object.isExtensible(error))
      const err = logOnce(error)
      assert.equal(typeof err['message'], 'string')
      assert.ok((err['message'] as string).startsWith(error.message.slice(0, 100)))
    })
  }

  it('summarizes as Name: message, and names what cannot be read', () => {
    const message = (value: unknown): string => (loggableError(value) as Error).message
    assert.equal(message(Object.freeze(new TypeError('boom'))), 'TypeError: boom')
    assert.equal(message(Object.defineProperty(new RangeError('m'), 'name', { get: trap })), 'Error: m')
    assert.equal(message(Object.defineProperty(new Error('m'), 'message', { get: trap })), 'Error: (unreadable message)')
    assert.equal(message('plain'), 'plain')
    assert.equal(message(Symbol('s')), 'Symbol(s)')
    assert.equal(message(12n), '12')
    assert.equal(message(undefined), 'undefined')
    assert.equal(message(revokedProxy()), 'unprintable value')
    assert.equal(message(Object.create(null)), 'unprintable value')
    const long = message('y'.repeat(TEN_MB))
    assert.equal(long.length, 200)
    assert.ok(long.endsWith('…'))
  })
})

describe('a request whose task rejects with a hostile value (through the plugin)', () => {
  it('is answered, the failure is logged once, the task has its history row, and nothing escapes', async () => {
    const escaped: unknown[] = []
    const onEscape = (reason: unknown): void => void escaped.push(typeof reason)
    process.on('unhandledRejection', onEscape)
    process.on('uncaughtException', onEscape)
    try {
      const { app, logs } = await buildApp({ logInterval: 0 })
      app.post('/hostile', async (request, reply) => {
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a hostile rejection value is the point
        request.tasks.spawn('hostile', () => Promise.reject(revokedProxy()))
        return reply.code(202).send()
      })
      const response = await app.inject({ method: 'POST', url: '/hostile' })
      await flush(10)
      assert.equal(response.statusCode, 202)
      const failed = logs.filter((l) => l.msg === 'background task failed')
      assert.equal(failed.length, 1)
      assert.equal(typeof failed[0]!['reqId'], 'string')
      const history = app.tasks.history()
      assert.deepEqual(
        history.map((h) => [h.name, h.outcome]),
        [['hostile', 'failed']],
      )
      await app.close()
      assert.deepEqual(escaped, [])
    } finally {
      process.off('unhandledRejection', onEscape)
      process.off('uncaughtException', onEscape)
    }
  })
})
