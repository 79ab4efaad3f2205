import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  defineTask,
  InvalidOptionError,
  InvalidPayloadError,
  InvalidResultError,
  PayloadTooLargeError,
  Scheduler,
  UnknownTaskError,
  type PayloadValidator,
  type SchemaCompiler,
} from '../src/index.js'
import { deferred, flush, hang, untilAborted } from './helpers.js'

/**
 * A tiny schema compiler for these tests (the plugin's uses Ajv): `{ required: [...], types: { key: 'string' } }`.
 * It records what it compiled, so a test can see schemas are compiled once, at construction.
 */
function testCompiler(): SchemaCompiler & { compiled: string[] } {
  const compiled: string[] = []
  const compile = (schema: object, task: string): PayloadValidator => {
    compiled.push(task)
    const { required = [], types = {} } = schema as { required?: string[]; types?: Record<string, string> }
    return (payload) => {
      if (typeof payload !== 'object' || payload === null) return { path: 'payload', problem: 'must be object' }
      for (const key of required) if (!(key in payload)) return { path: 'payload', problem: `must have required property '${key}'` }
      for (const [key, type] of Object.entries(types)) {
        const value = (payload as Record<string, unknown>)[key]
        if (value !== undefined && typeof value !== type) return { path: `payload.${key}`, problem: `must be ${type}` }
      }
      return undefined
    }
  }
  return Object.assign(compile, { compiled })
}

describe('named tasks in memory', () => {
  it('runs the definition with a JSON copy of the payload; its defaults apply; the result comes back as JSON', async () => {
    const seen: unknown[] = []
    const order = defineTask('send-confirmation', {
      timeout: 5_000,
      priority: 'low',
      run: (payload: { orderId: string; items: { sku: string }[] }, { attempt, name }) => {
        seen.push(payload, attempt, name)
        return { sent: true, to: payload.orderId }
      },
    })
    const scheduler = new Scheduler({ tasks: [order] })
    const payload = { orderId: 'o-1', items: [{ sku: 'a' }] }
    const handle = scheduler.spawn(order, payload)
    // The caller changing its object afterwards changes nothing: the task has its own copy, as from a queue.
    payload.items[0]!.sku = 'changed'
    assert.equal(handle.name, 'send-confirmation')
    assert.equal(handle.timeout, 5_000)
    assert.equal(handle.priority, 'low')
    const settlement = await handle.settled
    assert.deepEqual(settlement, { outcome: 'completed', value: { sent: true, to: 'o-1' } })
    assert.deepEqual(seen, [{ orderId: 'o-1', items: [{ sku: 'a' }] }, 1, 'send-confirmation'])
    assert.notEqual(seen[0], payload)
  })

  it("spawn options override the definition's defaults", async () => {
    const task = defineTask('t', { timeout: 5_000, priority: 'low', run: () => undefined })
    const scheduler = new Scheduler({ tasks: [task] })
    const handle = scheduler.spawn(task, undefined, { timeout: 100, priority: 'high', labels: { tenant: 'x' } })
    assert.equal(handle.timeout, 100)
    assert.equal(handle.priority, 'high')
    assert.deepEqual(handle.labels, { tenant: 'x' })
    assert.deepEqual(await handle.settled, { outcome: 'completed', value: undefined })
  })

  it('refuses at the call site a payload JSON would change, saying where and what to pass instead', () => {
    const task = defineTask('t', { run: () => undefined })
    const scheduler = new Scheduler({ tasks: [task] })
    class Money {
      amount = 1
    }
    const circular: Record<string, unknown> = {}
    circular['self'] = circular
    const cases: [unknown, string, RegExp][] = [
      [{ at: new Date() }, 'payload.at', /a Date.*toISOString/],
      [{ tags: new Set(['a']) }, 'payload.tags', /a Set/],
      [{ byId: new Map() }, 'payload.byId', /a Map/],
      [{ price: new Money() }, 'payload.price', /a Money.*plain object/],
      [{ n: Number.NaN }, 'payload.n', /NaN/],
      [{ n: Infinity }, 'payload.n', /Infinity/],
      [{ list: [1, undefined] }, 'payload.list[1]', /undefined/],
      // eslint-disable-next-line no-sparse-arrays
      [{ list: [1, , 3] }, 'payload.list[1]', /empty slot/],
      [{ big: 1n }, 'payload.big', /bigint/],
      [{ fn: () => 1 }, 'payload.fn', /a function/],
      [{ 'a b': { c: Symbol('s') } }, 'payload["a b"].c', /a symbol/],
      [circular, 'payload.self', /circular/],
      [{ bytes: Buffer.from('x') }, 'payload.bytes', /a Buffer.*base64/],
      [new Date(), 'payload', /a Date/],
    ]
    for (const [payload, path, message] of cases) {
      assert.throws(
        () => scheduler.spawn(task, payload),
        (error: unknown) =>
          error instanceof InvalidPayloadError && error.path === path && error.at === 'spawn' && message.test(error.message),
        path,
      )
    }
    // Nothing was queued or counted as spawned.
    assert.equal(scheduler.summary().spawned, 0)
    assert.equal(scheduler.liveCount, 0)
  })

  it('a payload that throws while it is read (a proxy, a getter) is refused as unreadable, never thrown as is', () => {
    const task = defineTask('t', { run: () => undefined })
    const scheduler = new Scheduler({ tasks: [task] })
    const hostile = new Proxy(
      {},
      {
        getPrototypeOf() {
          throw new Error('trap')
        },
      },
    )
    let reads = 0
    const fickle = {
      get value(): number {
        if (++reads > 1) throw new Error('second read')
        return 1
      },
    }
    const throwing = {
      get value(): number {
        throw new Error('getter')
      },
    }
    for (const [payload, message] of [
      [{ nested: hostile }, /payload is unreadable: reading it threw \(trap\)/],
      [throwing, /payload is unreadable: reading it threw \(getter\)/],
    ] as const) {
      assert.throws(
        () => scheduler.spawn(task, payload),
        (error: unknown) => error instanceof InvalidPayloadError && message.test(error.message),
      )
    }
    assert.equal(scheduler.summary().spawned, 0)
    // A getter runs once: what was checked is what is sent.
    scheduler.spawn(task, fickle)
    assert.equal(reads, 1)
  })

  it('refuses what JSON.stringify would quietly change: toJSON, -0, array subclasses and extra properties, symbol keys, custom prototypes', () => {
    const task = defineTask('t', { run: () => undefined })
    const scheduler = new Scheduler({ tasks: [task] })
    class Items extends Array<number> {}
    const tagged = Object.assign([1, 2], { note: 'lost' })
    const cases: [unknown, string, RegExp][] = [
      [{ a: { toJSON: () => ({ hacked: true }) } }, 'payload.a', /toJSON/],
      [Object.assign([1], { toJSON: () => 'x' }), 'payload', /toJSON/],
      [{ n: -0 }, 'payload.n', /-0: JSON writes it as 0/],
      [{ list: Items.from([1]) }, 'payload.list', /an Items/],
      [{ list: tagged }, 'payload.list', /properties besides its items/],
      [{ [Symbol('s')]: 1, a: 1 }, 'payload', /symbol keys/],
      [Object.create({ inherited: 1 }) as object, 'payload', /an object with a custom prototype/],
    ]
    for (const [payload, path, message] of cases) {
      assert.throws(
        () => scheduler.spawn(task, payload),
        (error: unknown) => error instanceof InvalidPayloadError && error.path === path && message.test(error.message),
        path,
      )
    }
  })

  it('a huge payload is refused at the cost of the limit, not of its size', () => {
    const task = defineTask('small', { maxPayloadBytes: 100, run: () => undefined })
    const scheduler = new Scheduler({ tasks: [task] })
    // A proxy claiming 2^32 - 1 items would take hours to write out in full.
    const endless = new Proxy([], {
      get: (target, key) =>
        key === 'length' ? 2 ** 32 - 1 : typeof key === 'string' && /^\d+$/.test(key) ? 0 : (Reflect.get(target, key) as unknown),
      has: () => true,
    })
    assert.throws(
      () => scheduler.spawn(task, endless),
      (error: unknown) => error instanceof PayloadTooLargeError && error.bytes === 101 && /at least 101 bytes/.test(error.message),
    )
    assert.throws(() => scheduler.spawn(task, 'x'.repeat(10_000_000)), PayloadTooLargeError)
  })

  it('accepts every plain JSON value, null-prototype objects and properties left undefined', async () => {
    const got: unknown[] = []
    const task = defineTask('t', { run: (payload: unknown) => void got.push(payload) })
    const scheduler = new Scheduler({ tasks: [task] })
    const values = [
      's',
      0,
      -1.5,
      true,
      null,
      [],
      {},
      [1, 'a', [null]],
      Object.assign(Object.create(null) as object, { a: 1 }),
      { a: undefined, b: 2 },
    ]
    await Promise.all(values.map((value) => scheduler.spawn(task, value).settled))
    assert.deepEqual(got, ['s', 0, -1.5, true, null, [], {}, [1, 'a', [null]], { a: 1 }, { b: 2 }])
  })

  it('checks the payload against the schema at spawn, and again when the task starts', async () => {
    const compile = testCompiler()
    const strict = defineTask('charge', { payload: { required: ['orderId'], types: { orderId: 'string' } }, run: () => 'ok' })
    const scheduler = new Scheduler({ tasks: [strict], compileSchema: compile })
    assert.deepEqual(compile.compiled, ['charge'])
    assert.throws(
      () => scheduler.spawn(strict, { orderId: 7 }),
      (error: unknown) => error instanceof InvalidPayloadError && error.path === 'payload.orderId' && error.problem === 'must be string',
    )
    assert.throws(() => scheduler.spawn(strict, {}), /Invalid payload for task "charge": payload must have required property 'orderId'/)
    assert.deepEqual(await scheduler.spawn(strict, { orderId: 'o-1' }).settled, { outcome: 'completed', value: 'ok' })
    assert.deepEqual(compile.compiled, ['charge'], 'compiled once')
  })

  it('a payload that no longer matches when the task starts fails the task, not the spawn', async () => {
    // What a rolling deploy does: the spawning process validated against one definition, the running
    // one checks against another. In memory, a validator whose verdict changes in between stands in for it.
    let accept = true
    const compile: SchemaCompiler = () => () => (accept ? undefined : { path: 'payload.v', problem: 'must be >= 2' })
    const task = defineTask('v', { payload: {}, run: () => 'ran' })
    const scheduler = new Scheduler({ tasks: [task], compileSchema: compile, concurrency: 1 })
    const gate = deferred()
    scheduler.spawn('blocker', () => gate.promise)
    const handle = scheduler.spawn(task, { v: 1 })
    accept = false
    gate.resolve()
    const settlement = await handle.settled
    assert.equal(settlement.outcome, 'failed')
    const error = (settlement as { error: InvalidPayloadError }).error
    assert.ok(error instanceof InvalidPayloadError)
    assert.equal(error.at, 'start')
    assert.match(error.message, /Invalid payload for task "v" \(when it started\): payload\.v must be >= 2/)
  })

  it('refuses a payload over maxPayloadBytes, counting UTF-8 bytes', () => {
    const task = defineTask('small', { maxPayloadBytes: 20, run: () => undefined })
    const scheduler = new Scheduler({ tasks: [task] })
    scheduler.spawn(task, { s: 'x'.repeat(12) }) // {"s":"xxxxxxxxxxxx"}: 20 bytes
    assert.throws(
      () => scheduler.spawn(task, { s: 'é'.repeat(7) }), // 14 + 8 bytes
      (error: unknown) =>
        error instanceof PayloadTooLargeError &&
        error.bytes === 22 &&
        error.maxPayloadBytes === 20 &&
        /raise maxPayloadBytes/.test(error.message),
    )
    const big = defineTask('default-cap', { run: () => undefined })
    const other = new Scheduler({ tasks: [big] })
    assert.throws(() => other.spawn(big, { s: 'x'.repeat(65_536) }), PayloadTooLargeError)
  })

  it('a result that is not JSON fails the task with InvalidResultError', async () => {
    const task = defineTask('r', { run: async () => ({ at: new Date(0) }) })
    const scheduler = new Scheduler({ tasks: [task] })
    const settlement = await scheduler.spawn(task, undefined).settled
    assert.equal(settlement.outcome, 'failed')
    const error = (settlement as { error: unknown }).error
    assert.ok(error instanceof InvalidResultError)
    assert.equal(error.path, 'result.at')
  })

  it('a definition must be registered, once per name; a closure spawn keeps working next to it', async () => {
    const task = defineTask('a', { run: () => 1 })
    const twin = defineTask('a', { run: () => 2 })
    const scheduler = new Scheduler({ tasks: [task] })
    assert.throws(
      () => scheduler.spawn(twin, undefined),
      (error: unknown) => error instanceof UnknownTaskError && error.task === 'a' && /another definition/.test(error.message),
    )
    const unregistered = defineTask('b', { run: () => 1 })
    assert.throws(() => scheduler.spawn(unregistered, undefined), /Task "b" is not registered: pass its definition in the `tasks` option/)
    assert.throws(
      () => new Scheduler({ tasks: [task, twin] }),
      (error: unknown) => error instanceof InvalidOptionError && error.option === 'tasks[1]',
    )
    assert.throws(
      () => new Scheduler({ tasks: [{ name: 'x', run: () => 1 } as never] }),
      /Invalid tasks\[0\]: expected a definition made by defineTask\(\)/,
    )
    // A hole in the list is not skipped.
    // eslint-disable-next-line no-sparse-arrays
    assert.throws(() => new Scheduler({ tasks: [, task] as never }), /Invalid tasks\[0\]: expected a definition made by defineTask\(\)/)
    assert.throws(
      () => scheduler.spawn({ name: 'a' } as never, undefined),
      /Invalid spawn\(name\): expected a non-empty string, or a definition/,
    )
    // The same definition twice in the list is one registration.
    new Scheduler({ tasks: [task, task] })
    assert.deepEqual(await scheduler.spawn(task, undefined).settled, { outcome: 'completed', value: 1 })
    assert.deepEqual(await scheduler.spawn('closure', () => 'c').settled, { outcome: 'completed', value: 'c' })
  })

  it('a payload schema needs compileSchema; one that does not compile is refused at construction', () => {
    const task = defineTask('s', { payload: { type: 'object' }, run: () => undefined })
    assert.throws(
      () => new Scheduler({ tasks: [task] }),
      (error: unknown) => error instanceof InvalidOptionError && error.option === 'compileSchema',
    )
    const broken: SchemaCompiler = () => {
      throw new Error('unknown keyword "tpye"')
    }
    assert.throws(
      () => new Scheduler({ tasks: [task], compileSchema: () => 'not a function' as never }),
      /Invalid compileSchema: expected a function returning a validator function \(for task "s"\)/,
    )
    assert.throws(
      () => new Scheduler({ tasks: [task], compileSchema: broken }),
      /Invalid tasks\[0\]\.payload: expected a JSON schema that compiles \(unknown keyword "tpye"\)/,
    )
  })

  it('trySpawn of a named task returns undefined when refused, and still throws on a bad payload', () => {
    const task = defineTask('t', { run: hang })
    const scheduler = new Scheduler({ tasks: [task], concurrency: 1, maxQueue: 0, timeout: Infinity })
    assert.ok(scheduler.trySpawn(task, {}) !== undefined)
    assert.equal(scheduler.trySpawn(task, {}), undefined)
    assert.throws(() => scheduler.trySpawn(task, { at: new Date() }), InvalidPayloadError)
  })

  it('defineTask refuses a bad spec, naming the field', () => {
    const run = (): undefined => undefined
    const cases: [() => unknown, RegExp][] = [
      [() => defineTask('', { run }), /Invalid defineTask\(name\): expected a non-empty string/],
      [() => defineTask('t', { run: 1 as never }), /Invalid defineTask\("t"\)\.run: expected a function \(payload, context\) => result/],
      [() => defineTask('t', { run, timeout: -1 }), /Invalid defineTask\("t"\)\.timeout/],
      [() => defineTask('t', { run, priority: 'urgent' as never }), /Invalid defineTask\("t"\)\.priority: expected one of 'critical'/],
      [
        () => defineTask('t', { run, maxPayloadBytes: 0 }),
        /Invalid defineTask\("t"\)\.maxPayloadBytes: expected bytes as an integer from 1/,
      ],
      [() => defineTask('t', { run, payload: [] as never }), /Invalid defineTask\("t"\)\.payload: expected a JSON schema object/],
      [() => defineTask('t', { run, attempts: 3 } as never), /defineTask\("t", spec\).*attempts/],
      [() => defineTask('t', { run, retries: -1 }), /Invalid defineTask\("t"\)\.retries: expected an integer from 0 to 1000/],
      [
        () => defineTask('t', { run, retries: 1, backoff: { type: 'linear' as never } }),
        /Invalid defineTask\("t"\)\.backoff\.type: expected one of 'exponential', 'fixed'/,
      ],
      [
        () => defineTask('t', { run, retries: 1, backoff: { delay: 5_000, maxDelay: 1_000 } }),
        /Invalid defineTask\("t"\)\.backoff\.maxDelay: expected at least delay \(5000\)/,
      ],
      [() => defineTask('t', { run, backoff: { delay: 10 } }), /Invalid defineTask\("t"\)\.backoff: expected retries >= 1 next to it/],
      [() => defineTask('t', { run, retries: 1, backoff: { delay: 2 ** 31 } }), /Invalid defineTask\("t"\)\.backoff\.delay/],
    ]
    for (const [make, message] of cases) assert.throws(make, message)
    assert.ok(Object.isFrozen(defineTask('t', { run })))
  })

  it('keys work for named tasks: join returns the live task, replace supersedes it', async () => {
    const sync = defineTask('sync-account', { timeout: Infinity, run: (_: { account: string }, ctx) => untilAborted(ctx) })
    const scheduler = new Scheduler({ tasks: [sync] })
    const first = scheduler.spawn(sync, { account: 'a' }, { key: 'account:a' })
    assert.equal(scheduler.spawn(sync, { account: 'a' }, { key: 'account:a' }), first)
    const second = scheduler.spawn(sync, { account: 'a' }, { key: 'account:a', onDuplicate: 'replace' })
    assert.notEqual(second, first)
    const settlement = await first.settled
    assert.equal(settlement.outcome, 'cancelled')
    assert.equal((settlement as { reason: string }).reason, 'superseded')
    await scheduler.close({ timeout: 0 })
  })

  it('spawns of a named task are grouped, limited and counted under its name like any task', async () => {
    const task = defineTask('mail', { run: () => new Promise<void>(() => {}) })
    const scheduler = new Scheduler({ tasks: [task], timeout: Infinity })
    for (let i = 0; i < 3; i++) scheduler.spawn(task, { i })
    await flush()
    const groups = scheduler.groups()
    assert.equal(groups.length, 1)
    assert.equal(groups[0]!.name, 'mail')
    assert.equal(groups[0]!.count, 3)
    assert.equal(scheduler.limitOf('mail')?.running, 3)
    await scheduler.close({ timeout: 0 })
  })
})
