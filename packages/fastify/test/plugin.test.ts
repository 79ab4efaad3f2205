import assert from 'node:assert/strict'
import { AsyncLocalStorage } from 'node:async_hooks'
import { describe, it } from 'node:test'
import { Scheduler } from '@fastify-tasks/core'
import { ManualClock } from '@fastify-tasks/core/testing'
import Fastify from 'fastify'
import fastifyTasks, { AlreadyRegisteredError, InvalidOptionError, type TaskHandle } from '../src/index.js'
import { AppTasks } from '../src/tasks/app-tasks.js'
import { buildApp, deferred, flush, LEVEL } from './helpers.js'

describe('registration', () => {
  it('decorates the app with the scheduler and validates options, naming the bad one', async () => {
    const { app } = await buildApp({ concurrency: 8, drainTimeout: 500 })
    assert.ok(app.tasks instanceof AppTasks)
    assert.equal(app.tasks.concurrency, 8)
    assert.equal(app.tasks.drainTimeout, 500)
    await app.close()

    for (const [options, option] of [
      [{ concurrency: 0 }, 'concurrency'],
      [{ drainTimeout: -1 }, 'drainTimeout'],
      [{ overflow: 'nope' }, 'overflow'],
      [{ concurrencyy: 5 }, 'options.concurrencyy'],
      [{ siteIgnore: 'dist' }, 'siteIgnore'],
      [{ siteIgnore: 5 }, 'siteIgnore'],
    ] as const) {
      const bad = Fastify()
      await assert.rejects(
        async () => {
          await bad.register(fastifyTasks, options as never)
          await bad.ready()
        },
        (error: unknown) => error instanceof InvalidOptionError && error.option === option,
      )
      await bad.close()
    }
  })

  it("refuses bad nested values in the core's dialect: the option, what was expected, what arrived", async () => {
    for (const [options, message] of [
      [
        { logInterval: 2 ** 31 },
        'Invalid logInterval: expected milliseconds as a number from 0 to 2147483647, received 2147483648 (number)',
      ],
      [{ eventLoop: { tick: 0 } }, 'Invalid eventLoop.tick: expected milliseconds as an integer from 1 to 60000, received 0 (number)'],
      [{ eventLoop: { maxUtilization: 2 } }, 'Invalid eventLoop.maxUtilization: expected a number from 0.01 to 1, received 2 (number)'],
      [
        { backpressure: { underPressure: { maxRssBytes: 0 } } },
        'Invalid backpressure.underPressure.maxRssBytes: expected a finite number > 0, received 0 (number)',
      ],
      [
        { backpressure: { adaptive: { targetDelay: 0 } } },
        'Invalid backpressure.adaptive.targetDelay: expected milliseconds as a number > 0, or Infinity, received 0 (number)',
      ],
      [
        { backpressure: { adaptive: { decrease: 1 } } },
        'Invalid backpressure.adaptive.decrease: expected a number from 0.1 to 0.95, received 1 (number)',
      ],
      [
        { backpressure: { adaptive: { min: 5_000 } } },
        'Invalid backpressure.adaptive.min: expected an integer from 1 to concurrency (1000), received 5000 (number)',
      ],
      [
        { backpressure: { onOverload: 'drop' } },
        "Invalid backpressure.onOverload: expected one of 'reject', 'defer', received \"drop\" (string)",
      ],
      [{ limits: { perName: 0 } }, "Invalid limits.perName: expected 'adaptive', an integer >= 1 or false, received 0 (number)"],
      [{ limits: { pressure: 'yes' } }, 'Invalid limits.pressure: expected a function () => string | undefined, received "yes" (string)'],
      [{ metrics: { maxTaskNames: 0 } }, 'Invalid metrics.maxTaskNames: expected an integer from 1 to 10000, received 0 (number)'],
      [
        { metrics: { durationBuckets: [1, 0.5] } },
        'Invalid metrics.durationBuckets: expected a non-empty array of increasing positive numbers (seconds), received an array',
      ],
      // An array is not an object of options (it used to pass as one, with every default).
      [{ metrics: [] }, 'Invalid metrics: expected an object, or false, received an array'],
      [{ debug: [] }, 'Invalid debug: expected an object, or false, received an array'],
    ] as const) {
      const app = Fastify()
      await assert.rejects(
        async () => {
          await app.register(fastifyTasks, options as never)
          await app.ready()
        },
        (error: unknown) => {
          assert.ok(error instanceof InvalidOptionError, String(error))
          assert.equal(error.message, message)
          return true
        },
      )
      await app.close()
    }
  })

  it("an unknown option is refused listing the plugin's own options too, with the closest known name", async () => {
    // The scheduler's own list, from its own error: the plugin's must hold every name of it.
    const schedulerKeys = (() => {
      try {
        new Scheduler({ nope: 1 } as never)
      } catch (error) {
        return /\(([^)]*)\)$/.exec((error as InvalidOptionError).expected)![1]!.split(', ')
      }
      throw new Error('the scheduler accepted an unknown option')
    })()
    assert.ok(schedulerKeys.includes('concurrency'))
    const pluginKeys = ['drainTimeout', 'debug', 'eventLoop', 'metrics', 'backpressure']
    const refusal = async (options: object): Promise<InvalidOptionError> => {
      const app = Fastify()
      try {
        await app.register(fastifyTasks, options as never)
        await app.ready()
      } catch (error) {
        assert.ok(error instanceof InvalidOptionError, String(error))
        return error
      } finally {
        await app.close()
      }
      throw new Error(`registered with ${JSON.stringify(options)}`)
    }
    for (const [options, option, suggestion] of [
      [{ drain: { timeout: 5_000 } }, 'options.drain', 'drainTimeout'],
      [{ drain: undefined }, 'options.drain', 'drainTimeout'],
      [{ concurency: 8 }, 'options.concurency', 'concurrency'],
      [{ concurrencyy: 8 }, 'options.concurrencyy', 'concurrency'],
      [{ metric: false }, 'options.metric', 'metrics'],
      [{ eventloop: {} }, 'options.eventloop', 'eventLoop'],
      [{ backPressure: false }, 'options.backPressure', 'backpressure'],
      [{ debugRoutes: false }, 'options.debugRoutes', 'debug'],
      [{ drainTimeoutMs: 5_000 }, 'options.drainTimeoutMs', 'drainTimeout'],
      [{ histroySize: 10 }, 'options.histroySize', 'historySize'],
      [{ queue: 10 }, 'options.queue', 'maxQueue'],
      [{ zzz: 1 }, 'options.zzz', undefined],
    ] as const) {
      const error = await refusal(options)
      assert.equal(error.option, option)
      for (const key of [...schedulerKeys, ...pluginKeys]) assert.ok(error.expected.includes(key), `${option}: lists ${key}`)
      if (suggestion === undefined) assert.doesNotMatch(error.message, /did you mean/, option)
      else assert.ok(error.message.includes(`did you mean ${suggestion}?`), `${option}: ${error.message}`)
    }
    // Inside the nested objects too.
    for (const [options, option, suggestion] of [
      [{ eventLoop: { maxdelay: 100 } }, 'eventLoop.maxdelay', 'maxDelay'],
      [{ backpressure: { onOverlaod: 'reject' } }, 'backpressure.onOverlaod', 'onOverload'],
      [{ backpressure: { adaptive: { target: 50 } } }, 'backpressure.adaptive.target', 'targetDelay'],
      [{ debug: { tokn: 'a-long-enough-secret-token' } }, 'debug.tokn', 'token'],
      [{ metrics: { proccessMetrics: false } }, 'metrics.proccessMetrics', 'processMetrics'],
    ] as const) {
      const error = await refusal(options)
      assert.equal(error.option, option)
      assert.ok(error.message.includes(`did you mean ${suggestion}?`), `${option}: ${error.message}`)
    }
    // What Fastify itself reads from register options is still left to it.
    const { app } = await buildApp({ logLevel: 'warn' } as never)
    await app.close()
  })

  it('fails at once, with a clear error, when registered twice on one instance', async () => {
    const app = Fastify()
    await app.register(fastifyTasks)
    await assert.rejects(
      async () => {
        await app.register(fastifyTasks)
      },
      (error: unknown) => error instanceof AlreadyRegisteredError && (error as { code?: string }).code === 'FT_ALREADY_REGISTERED',
    )
    await app.close()
  })

  it('refuses, naming the clash, when another plugin took the tasks decorator', async () => {
    const app = Fastify()
    app.decorate('tasks', { mine: true } as never)
    await assert.rejects(
      async () => {
        await app.register(fastifyTasks)
        await app.ready()
      },
      (error: unknown) => (error as { code?: string }).code === 'FT_DECORATOR_TAKEN',
    )
    await app.close()
  })

  it('two instances in one process are independent', async () => {
    const one = await buildApp({ concurrency: 1 })
    const two = await buildApp({ concurrency: 3 })
    const gate = deferred()
    one.app.tasks.spawn('held', () => gate.promise)
    assert.equal(one.app.tasks.liveCount, 1)
    assert.equal(two.app.tasks.liveCount, 0)
    assert.equal(two.app.tasks.concurrency, 3)
    await two.app.close()
    assert.equal(one.app.tasks.closing, false)
    gate.resolve()
    await one.app.close()
  })
})

describe('request.tasks', () => {
  it('records request id, method and route template, and logs through a child of request.log', async () => {
    const { app, logs } = await buildApp()
    let handle: TaskHandle | undefined
    app.post('/orders/:id', async (request, reply) => {
      handle = request.tasks.spawn('send-confirmation', ({ log }) => {
        log.info('confirmation sent')
        return 'sent'
      })
      return reply.code(202).send({ queued: handle.id })
    })
    const response = await app.inject({ method: 'POST', url: '/orders/42' })
    assert.equal(response.statusCode, 202)
    assert.deepEqual(await handle!.settled, { outcome: 'completed', value: 'sent' })
    assert.equal(handle!.meta?.['route'], '/orders/:id')
    assert.equal(handle!.meta?.['method'], 'POST')
    assert.deepEqual(handle!.labels, { method: 'POST', route: '/orders/:id' })
    const line = logs.find((l) => l.msg === 'confirmation sent')!
    assert.equal(line['reqId'], handle!.meta?.['requestId'])
    assert.equal(line['taskId'], handle!.id)
    assert.equal(line['task'], 'send-confirmation')
    await app.close()
  })

  it('is a new object per request, never shared', async () => {
    const { app } = await buildApp()
    const seen = new Set<unknown>()
    app.get('/', async (request) => {
      seen.add(request.tasks)
      return 'ok'
    })
    await app.inject('/')
    await app.inject('/')
    assert.equal(seen.size, 2)
    await app.close()
  })

  it("runs the task in the request's AsyncLocalStorage context, even when it had to wait for a slot", async () => {
    const als = new AsyncLocalStorage<{ requestId: string }>()
    const { app } = await buildApp({ concurrency: 1 })
    app.addHook('onRequest', (request, _reply, done) => {
      als.run({ requestId: String(request.id) }, done)
    })
    const gate = deferred()
    app.tasks.spawn('blocker', () => gate.promise)
    const seen: [string | undefined, unknown][] = []
    const handles: TaskHandle[] = []
    app.get('/', async (request) => {
      handles.push(
        request.tasks.spawn('ctx', async () => {
          await Promise.resolve()
          seen.push([als.getStore()?.requestId, request.id])
        }),
      )
      return 'ok'
    })
    await app.inject('/')
    await app.inject('/')
    gate.resolve()
    await Promise.all(handles.map((h) => h.settled))
    assert.equal(seen.length, 2)
    for (const [store, id] of seen) assert.equal(store, String(id))
    await app.close()
  })

  it('an admission error escaping a handler becomes 503 with Retry-After and a body naming the reason', async () => {
    const { app } = await buildApp({ concurrency: 1, maxQueue: 0, retryAfter: 7 })
    const gate = deferred()
    app.tasks.spawn('blocker', () => gate.promise)
    app.post('/work', async (request, reply) => {
      request.tasks.spawn('report', () => 1)
      return reply.code(202).send()
    })
    const response = await app.inject({ method: 'POST', url: '/work' })
    assert.equal(response.statusCode, 503)
    assert.equal(response.headers['retry-after'], '7')
    const body = response.json<{ code: string; message: string }>()
    assert.equal(body.code, 'FT_QUEUE_FULL')
    assert.match(body.message, /queue_full/)
    gate.resolve()
    await app.close()
  })

  it('logs a failed task with request id, task id, name and spawn site; no unhandled rejection', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      const { app, logs } = await buildApp({ spawnSite: 'always' })
      app.get('/fail', async (request) => {
        request.tasks.spawn('post-analytics', async () => {
          throw new Error('partner API answered 502')
        })
        return 'ok'
      })
      const response = await app.inject('/fail')
      assert.equal(response.statusCode, 200)
      await flush()
      const line = logs.find((l) => l.msg === 'background task failed')!
      assert.equal(line.level, LEVEL.error)
      assert.equal(line['task'], 'post-analytics')
      assert.equal(typeof line['taskId'], 'string')
      assert.equal(typeof line['reqId'], 'string')
      assert.match(String(line['site']), /plugin\.test\.ts:\d+$/)
      assert.match(String((line['err'] as { message: string }).message), /502/)
      assert.deepEqual(unhandled, [])
      await app.close()
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })

  it('logs deadlines exceeded (warn) and leaks (error)', async () => {
    const clock = new ManualClock()
    const { app, logs } = await buildApp({ clock, timeout: 100, abortGrace: 50 })
    app.get('/hang', async (request) => {
      request.tasks.spawn('call-hung-partner', () => new Promise(() => {}))
      return 'ok'
    })
    await app.inject('/hang')
    clock.advance(100)
    const timeout = logs.find((l) => l.msg.includes('exceeded its deadline'))!
    assert.equal(timeout.level, LEVEL.warn)
    assert.equal(timeout['task'], 'call-hung-partner')
    assert.equal(typeof timeout['reqId'], 'string')
    clock.advance(50)
    const leak = logs.find((l) => l.msg.includes('leaked'))!
    assert.equal(leak.level, LEVEL.error)
    assert.equal(leak['abortReason'], 'timeout')
    app.tasks.drainTimeout = 0
    const closing = app.close()
    await flush()
    clock.advance(50)
    await closing
  })

  it('app.tasks.spawn gives tasks a child of app.log and rejects a data option', async () => {
    const { app, logs } = await buildApp()
    await app.tasks.spawn('warm-cache', ({ log }) => log.info('warmed')).settled
    const line = logs.find((l) => l.msg === 'warmed')!
    assert.equal(line['task'], 'warm-cache')
    assert.equal(line['reqId'], undefined)
    assert.throws(() => app.tasks.spawn('x', () => 1, { data: 1 } as never), /spawn\(options\.data\)/)
    await app.close()
  })
})
