import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DEFAULTS, InvalidOptionError, Scheduler, type SchedulerOptions, type SpawnOptions } from '../src/index.js'
import { manualScheduler } from './helpers.js'

function expectInvalid(run: () => unknown, option: string, expected: RegExp, received: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof InvalidOptionError, `expected InvalidOptionError, got ${String(error)}`)
    assert.equal(error.code, 'FT_INVALID_OPTION')
    assert.equal(error.option, option)
    assert.match(error.expected, expected)
    assert.match(error.received, received)
    assert.ok(error.message.includes(option))
    return true
  })
}

describe('option validation', () => {
  it('has documented defaults', () => {
    const summary = new Scheduler().summary()
    assert.equal(summary.limits.concurrency, DEFAULTS.concurrency)
    assert.equal(summary.limits.maxQueue, DEFAULTS.maxQueue)
    assert.equal(summary.limits.timeout, DEFAULTS.timeout)
    assert.equal(summary.limits.overflow, 'reject')
  })

  const bad: [keyof SchedulerOptions | 'options' | 'options.nope', unknown, string, RegExp, RegExp][] = [
    ['concurrency', 0, 'concurrency', /integer >= 1/, /^0 \(number\)$/],
    ['concurrency', 1.5, 'concurrency', /integer/, /1\.5/],
    ['concurrency', '10', 'concurrency', /integer/, /"10" \(string\)/],
    ['maxQueue', -1, 'maxQueue', /integer >= 0/, /-1/],
    ['maxQueue', Infinity, 'maxQueue', /integer/, /Infinity/],
    ['overflow', 'drop-newest', 'overflow', /'reject', 'drop_oldest', 'drop_lowest_priority'/, /drop-newest/],
    ['timeout', -1, 'timeout', /Infinity/, /-1/],
    ['timeout', NaN, 'timeout', /milliseconds/, /NaN/],
    ['abortGrace', Infinity, 'abortGrace', /finite/, /Infinity/],
    ['stuckAfter', null, 'stuckAfter', /milliseconds/, /null/],
    ['agingInterval', 0, 'agingInterval', /> 0, or Infinity/, /^0 \(number\)$/],
    ['historySize', 2_000_000, 'historySize', /0 to 1000000/, /2000000/],
    ['spawnSite', true, 'spawnSite', /'sampled', 'always', 'off'/, /true \(boolean\)/],
    ['siteIgnore', 'dist', 'siteIgnore', /array of non-empty strings/, /"dist"/],
    ['admission', true, 'admission', /function/, /true/],
    ['clock', {}, 'clock', /now\(\)/, /an object/],
    ['retryAfter', -1, 'retryAfter', /seconds/, /-1/],
    ['options.nope', 1, 'options.nope', /known options/, /1 \(number\)/],
  ]
  for (const [key, value, option, expected, received] of bad) {
    it(`rejects ${option} = ${String(value)}`, () => {
      const options = key === 'options.nope' ? { nope: value } : { [key]: value }
      expectInvalid(() => new Scheduler(options as SchedulerOptions), option, expected, received)
    })
  }

  it('DEFAULTS cannot be changed at run time', () => {
    assert.ok(Object.isFrozen(DEFAULTS))
  })

  it('rejects options that are not an object', () => {
    expectInvalid(() => new Scheduler(42 as never), 'options', /an object/, /42/)
  })

  it('validates spawn arguments and options, naming each', () => {
    const { scheduler } = manualScheduler()
    expectInvalid(() => scheduler.spawn('', () => 1), 'spawn(name)', /non-empty string/, /""/)
    expectInvalid(() => scheduler.spawn(7 as never, () => 1), 'spawn(name)', /string/, /7/)
    expectInvalid(() => scheduler.spawn('x', 'nope' as never), 'spawn(fn)', /function/, /"nope"/)
    const cases: [unknown, string, RegExp][] = [
      [{ timeout: -1 }, 'spawn(options.timeout)', /Infinity/],
      [{ timeout: '5s' }, 'spawn(options.timeout)', /milliseconds/],
      [{ priority: 'urgent' }, 'spawn(options.priority)', /'critical', 'high', 'normal', 'low'/],
      [{ key: '' }, 'spawn(options.key)', /non-empty string/],
      [{ onDuplicate: 'merge' }, 'spawn(options.onDuplicate)', /'join', 'replace'/],
      [{ labels: { route: 5 } }, 'spawn(options.labels.route)', /a string/],
      [{ labels: [] }, 'spawn(options.labels)', /an object/],
      [{ meta: { obj: {} } }, 'spawn(options.meta.obj)', /string, number or boolean/],
      [{ timout: 5 }, 'spawn(options).timout', /known options/],
      ['fast', 'spawn(options)', /an object/],
    ]
    for (const [options, option, expected] of cases) {
      expectInvalid(() => scheduler.spawn('x', () => 1, options as SpawnOptions), option, expected, /./)
    }
    assert.equal(scheduler.summary().spawned, 0, 'nothing was admitted by a bad call')
  })

  it('rejects a bad runtime concurrency', () => {
    const { scheduler } = manualScheduler()
    expectInvalid(() => (scheduler.concurrency = 0), 'concurrency', /integer >= 1/, /0/)
  })
})
