import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { InvalidOptionError } from '../src/index.js'
import {
  checkArray,
  checkBoolean,
  checkDuration,
  checkFunction,
  checkInteger,
  checkKnownKeys,
  checkNumber,
  checkObject,
  checkObjectOrFalse,
  checkOneOf,
  checkString,
  isTaskId,
  TASK_ID_PATTERN,
} from '../src/validation.js'

/** The message a check throws for `run`, or a failure when it does not throw `InvalidOptionError`. */
function messageOf(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    assert.ok(error instanceof InvalidOptionError, `expected InvalidOptionError, got ${String(error)}`)
    return error.message
  }
  assert.fail('the check accepted the value')
}

describe('the shared checks (@fastify-tasks/core/validation)', () => {
  it('return the value they accept, unchanged', () => {
    const fn = (): number => 1
    const options = { a: 1 }
    assert.equal(checkInteger('n', 5, { min: 1 }), 5)
    assert.equal(checkNumber('n', 0.5, { min: 0, max: 1 }), 0.5)
    assert.equal(checkDuration('t', Infinity, { infinity: true }), Infinity)
    assert.equal(checkOneOf('w', 'b', ['a', 'b']), 'b')
    assert.equal(checkBoolean('b', false), false)
    assert.equal(checkFunction('f', fn), fn)
    assert.equal(checkString('s', 'x', { minLength: 1 }), 'x')
    assert.equal(checkObject('o', options), options)
    assert.equal(checkObjectOrFalse('o', false), false)
    assert.equal(checkObjectOrFalse('o', options), options)
    const list = [1, 2]
    assert.equal(checkArray('a', list, { of: 'numbers' }), list)
  })

  it('name the option, say what was expected and what arrived, in one dialect', () => {
    const cases: [() => unknown, string][] = [
      [() => checkInteger('concurrency', 0, { min: 1 }), 'Invalid concurrency: expected an integer >= 1, received 0 (number)'],
      [
        () => checkInteger('historySize', 1.5, { min: 0, max: 10 }),
        'Invalid historySize: expected an integer from 0 to 10, received 1.5 (number)',
      ],
      [
        () => checkInteger('eventLoop.tick', 0, { min: 1, max: 60_000, unit: 'milliseconds' }),
        'Invalid eventLoop.tick: expected milliseconds as an integer from 1 to 60000, received 0 (number)',
      ],
      [
        () => checkInteger('maxQueue', 2 ** 53, { min: 0 }),
        'Invalid maxQueue: expected an integer >= 0, received 9007199254740992 (number)',
      ],
      [
        () => checkNumber('retryAfter', Infinity, { min: 0, unit: 'seconds' }),
        'Invalid retryAfter: expected seconds as a finite number >= 0, received Infinity (number)',
      ],
      [() => checkNumber('x.max', 0, { above: 0 }), 'Invalid x.max: expected a finite number > 0, received 0 (number)'],
      [
        () => checkNumber('x.decrease', 1, { min: 0.1, max: 0.95 }),
        'Invalid x.decrease: expected a number from 0.1 to 0.95, received 1 (number)',
      ],
      [() => checkNumber('x', NaN), 'Invalid x: expected a finite number, received NaN (number)'],
      [() => checkNumber('x', 5, { above: 1, max: 4 }), 'Invalid x: expected a number > 1 and <= 4, received 5 (number)'],
      [
        () => checkDuration('abortGrace', Infinity),
        'Invalid abortGrace: expected milliseconds as a finite number >= 0, received Infinity (number)',
      ],
      [
        () => checkDuration('timeout', -1, { infinity: true }),
        'Invalid timeout: expected milliseconds as a number >= 0, or Infinity, received -1 (number)',
      ],
      [
        () => checkDuration('agingInterval', 0, { above: 0, infinity: true }),
        'Invalid agingInterval: expected milliseconds as a number > 0, or Infinity, received 0 (number)',
      ],
      [
        () => checkDuration('logInterval', 2 ** 31, { max: 2 ** 31 - 1 }),
        'Invalid logInterval: expected milliseconds as a number from 0 to 2147483647, received 2147483648 (number)',
      ],
      [() => checkDuration('timeout', '5s'), 'Invalid timeout: expected milliseconds as a finite number >= 0, received "5s" (string)'],
      [
        () => checkOneOf('overflow', 'drop_newest', ['reject', 'drop_oldest']),
        "Invalid overflow: expected one of 'reject', 'drop_oldest', received \"drop_newest\" (string)",
      ],
      [() => checkBoolean('metrics.route', 'yes'), 'Invalid metrics.route: expected a boolean, received "yes" (string)'],
      [
        () => checkFunction('admission', true, '(request) => boolean'),
        'Invalid admission: expected a function (request) => boolean, received true (boolean)',
      ],
      [() => checkFunction('spawn(fn)', null), 'Invalid spawn(fn): expected a function, received null'],
      [() => checkString('key', 5), 'Invalid key: expected a string, received 5 (number)'],
      [() => checkString('key', '', { minLength: 1 }), 'Invalid key: expected a non-empty string, received "" (string)'],
      [() => checkObject('options', []), 'Invalid options: expected an object, received an array'],
      [() => checkObjectOrFalse('metrics', true), 'Invalid metrics: expected an object, or false, received true (boolean)'],
      [
        () => checkArray('siteIgnore', 'dist', { of: 'non-empty strings' }),
        'Invalid siteIgnore: expected an array of non-empty strings, received "dist" (string)',
      ],
      [() => checkArray('b', [], { of: 'numbers', minLength: 1 }), 'Invalid b: expected a non-empty array of numbers, received an array'],
      [
        () =>
          checkArray('b', [2, 1], { of: 'increasing numbers', every: (n, i, all) => i === 0 || (n as number) > (all[i - 1] as number) }),
        'Invalid b: expected an array of increasing numbers, received an array',
      ],
    ]
    for (const [run, message] of cases) assert.equal(messageOf(run), message)
  })

  it('bounds are inclusive for min and max, exclusive for above', () => {
    assert.equal(checkInteger('n', 10, { min: 1, max: 10 }), 10)
    assert.equal(checkNumber('n', 0, { min: 0 }), 0)
    assert.throws(() => checkNumber('n', 0, { above: 0 }), InvalidOptionError)
    assert.equal(checkDuration('d', 0), 0)
    assert.throws(() => checkDuration('d', -0.1), InvalidOptionError)
    assert.throws(() => checkDuration('d', Infinity, { max: 10, infinity: true }), InvalidOptionError)
    assert.equal(checkString('s', ''), '')
    assert.throws(() => checkString('token', 'short', { minLength: 16 }), InvalidOptionError)
  })

  it('never echo a secret: a string that is too short shows only its length', () => {
    const message = messageOf(() => checkString('debug.token', 'sekrit-value', { minLength: 16, secret: true }))
    assert.equal(message, 'Invalid debug.token: expected a string of at least 16 characters, received "(hidden: 12 characters)" (string)')
    // Not a string: what it is can be shown.
    assert.match(
      messageOf(() => checkString('debug.token', 42, { minLength: 16, secret: true })),
      /received 42 \(number\)$/,
    )
  })

  it('refuse an unknown key listing the known ones, with the closest suggested and secrets hidden', () => {
    const known = ['path', 'cancel', 'token', 'maxGroups']
    for (const keys of [known, new Set(known)]) {
      assert.doesNotThrow(() => checkKnownKeys('debug', { path: '/x', cancel: true }, keys))
      assert.equal(
        messageOf(() => checkKnownKeys('debug', { path: '/x', maxgroups: 5 }, keys)),
        'Invalid debug.maxgroups: expected one of the known options (did you mean maxGroups?): path, cancel, token, maxGroups, received 5 (number)',
      )
      assert.equal(
        messageOf(() => checkKnownKeys('debug', { zzz: 1 }, keys)),
        'Invalid debug.zzz: expected one of the known options (path, cancel, token, maxGroups), received 1 (number)',
      )
      const hidden = messageOf(() => checkKnownKeys('debug', { tokn: 'a-real-looking-secret-value' }, keys))
      assert.match(hidden, /did you mean token\?/)
      assert.doesNotMatch(hidden, /real-looking/)
    }
    // A key with the value undefined is still a key: a typo is refused whatever its value.
    assert.throws(() => checkKnownKeys('options', { concurency: undefined }, ['concurrency']), /did you mean concurrency\?/)
  })

  it('a task id is the decimal digits of a sequence number, at most 15 of them', () => {
    for (const id of ['1', '42', '999999999999999']) assert.ok(isTaskId(id), id)
    for (const id of ['', '1000000000000000', '-1', '1.5', '0x10', ' 5', '+5', '1e3', 'abc']) assert.ok(!isTaskId(id), id)
    for (const id of [1, null, undefined, ['1']]) assert.ok(!isTaskId(id), String(id))
    // The same rule for JSON Schema (the debug routes' parameters) as for the predicate.
    assert.ok(new RegExp(TASK_ID_PATTERN).test('12') && !new RegExp(TASK_ID_PATTERN).test('1a'))
  })
})
