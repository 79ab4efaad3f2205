import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { summarizeError } from '../src/history.js'
import type { TaskFunction } from '../src/index.js'
import { flush, manualScheduler } from './helpers.js'

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

/** Values a task may fail with that throw, or run code, when inspected. Made fresh for each test. */
const HOSTILE: ReadonlyArray<readonly [label: string, make: () => unknown]> = [
  ['revoked proxy', revokedProxy],
  ['proxy whose getPrototypeOf trap throws', () => new Proxy({}, { getPrototypeOf: trap })],
  ['proxy of an Error whose get trap throws', () => new Proxy(new Error('behind a proxy'), { get: trap })],
  ['proxy whose has trap throws', () => new Proxy({}, { has: trap })],
  ['proxy whose ownKeys trap throws', () => new Proxy({}, { ownKeys: trap })],
  ['proxy of an Error whose every trap throws', () => new Proxy(new Error('x'), Object.fromEntries(TRAPS.map((t) => [t, trap])))],
  ['Error whose name getter throws', () => Object.defineProperty(new Error('m'), 'name', { get: trap })],
  ['Error whose message getter throws', () => Object.defineProperty(new Error('m'), 'message', { get: trap })],
  ['object whose toString throws', () => ({ toString: trap })],
  ['object whose Symbol.toPrimitive throws', () => ({ [Symbol.toPrimitive]: trap })],
  ['object whose toJSON throws', () => ({ toJSON: trap })],
  ['symbol', () => Symbol('hostile')],
  ['bigint', () => 10n ** 30n],
  ['null', () => null],
  ['undefined', () => undefined],
  ['Error with a cyclic cause chain', cyclicCause],
  ['Error with a 10 MB message', () => new Error('x'.repeat(TEN_MB))],
  ['10 MB string', () => 'x'.repeat(TEN_MB)],
  [
    'thenable whose then getter throws',
    () => ({
      get then(): never {
        return trap()
      },
    }),
  ],
  ['thenable whose then throws', () => ({ then: trap })],
  ['object with a null prototype', () => Object.create(null) as object],
]

/** The ways a task function can fail with a value. */
const FAILURES: ReadonlyArray<readonly [how: string, fail: (value: unknown) => TaskFunction]> = [
  [
    'rejected by an async function',
    (value) => async () => {
      await Promise.resolve()
      throw value
    },
  ],
  [
    'thrown synchronously',
    (value) => () => {
      throw value
    },
  ],
  [
    'rejected through a thenable',
    (value) => () => ({
      then(_ok: (v: unknown) => void, fail: (e: unknown) => void) {
        fail(value)
      },
    }),
  ],
  [
    'thrown by a then getter',
    (value) => () => ({
      get then(): never {
        throw value
      },
    }),
  ],
]

/** Records (by kind only: the values may be hostile) what escapes to the process while it runs. */
function watchEscapes(): { readonly escaped: string[]; stop(): void } {
  const escaped: string[] = []
  const onRejection = (): void => void escaped.push('unhandledRejection')
  const onException = (): void => void escaped.push('uncaughtException')
  process.on('unhandledRejection', onRejection)
  process.on('uncaughtException', onException)
  return {
    escaped,
    stop() {
      process.off('unhandledRejection', onRejection)
      process.off('uncaughtException', onException)
    },
  }
}

describe('hostile failure values', () => {
  for (const [how, fail] of FAILURES) {
    describe(how, () => {
      for (const [label, make] of HOSTILE) {
        it(`a rejection value that throws when inspected still ends failed with one history row (${label})`, async () => {
          const watch = watchEscapes()
          try {
            const { scheduler } = manualScheduler()
            const settledCalls: string[] = []
            scheduler.subscribe({ settled: (task, settlement) => void settledCalls.push(`${task.id} ${settlement.outcome}`) })
            const handle = scheduler.spawn('hostile', fail(make()))
            const settlement = await Promise.race([handle.settled, flush(10).then(() => 'still pending' as const)])
            await flush()

            assert.notEqual(settlement, 'still pending', 'handle.settled resolves')
            assert.equal(settlement !== 'still pending' && settlement.outcome, 'failed')
            assert.equal(handle.state, 'failed')
            assert.deepEqual(scheduler.summary().outcomes, { completed: 0, failed: 1, cancelled: 0, timed_out: 0, dropped: 0 })
            assert.deepEqual(settledCalls, [`${handle.id} failed`], 'one settled call')
            const rows = scheduler.history().filter((row) => row.id === handle.id)
            assert.equal(rows.length, 1, 'one history row')
            assert.equal(rows[0]!.outcome, 'failed')
            assert.ok(rows[0]!.error === null || rows[0]!.error.length <= 200, 'a bounded error summary')
            assert.deepEqual(watch.escaped, [], 'nothing escapes to the process')
          } finally {
            watch.stop()
          }
        })
      }
    })
  }
})

describe('summarizeError', () => {
  for (const [label, make] of HOSTILE) {
    it(`never throws and stays within 200 characters (${label})`, () => {
      const text = summarizeError(make())
      assert.equal(typeof text, 'string')
      assert.ok(text.length <= 200, `${text.length} characters`)
    })
  }

  it('reads Name: message from an Error, and falls back per part when a getter throws', () => {
    assert.equal(summarizeError(new TypeError('boom')), 'TypeError: boom')
    assert.equal(summarizeError(Object.defineProperty(new RangeError('m'), 'name', { get: trap })), 'Error: m')
    assert.equal(summarizeError(Object.defineProperty(new Error('m'), 'message', { get: trap })), 'Error: (unreadable message)')
    assert.equal(summarizeError(new Proxy(new Error('m'), { get: trap })), 'Error: (unreadable message)')
    assert.equal(summarizeError(cyclicCause()), 'Error: a')
  })

  it('prints primitives, and names what cannot be printed', () => {
    assert.equal(summarizeError('plain'), 'plain')
    assert.equal(summarizeError(Symbol('s')), 'Symbol(s)')
    assert.equal(summarizeError(12n), '12')
    assert.equal(summarizeError(null), 'null')
    assert.equal(summarizeError(undefined), 'undefined')
    assert.equal(summarizeError({ toString: () => 'custom' }), 'custom')
    assert.equal(summarizeError(revokedProxy()), 'unprintable value')
    assert.equal(summarizeError(Object.create(null)), 'unprintable value')
    assert.equal(summarizeError({ toString: trap }), 'unprintable value')
  })

  it('truncates long text to 200 characters with an ellipsis', () => {
    const text = summarizeError(new Error('x'.repeat(TEN_MB)))
    assert.equal(text.length, 200)
    assert.ok(text.startsWith('Error: xxx'))
    assert.ok(text.endsWith('…'))
    assert.equal(summarizeError('y'.repeat(TEN_MB)).length, 200)
  })
})
