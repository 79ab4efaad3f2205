import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ManualClock } from '@fastify-tasks/core/testing'
import { Registry, Counter } from 'prom-client'
import type { Outcome, TaskHandle } from 'fastify-tasks'
import Fastify from 'fastify'
import fastifyTasks from 'fastify-tasks'
import { buildApp, flush, samples, watchProcess } from './helpers.js'

/**
 * Misbehaving tasks: each ends in exactly one terminal state (or is flagged leaked), nothing escapes
 * as an unhandledRejection or uncaughtException, and /debug/tasks and /metrics agree with what happened.
 */
describe('faults', () => {
  it('every kind of misbehaving task ends in one terminal state or is flagged; nothing escapes; the surfaces agree', async (t) => {
    const { result, unhandled, uncaught } = await watchProcess(async () => {
      const clock = new ManualClock()
      const { app } = await buildApp({ clock, timeout: 200, abortGrace: 100, spawnSite: 'always' })
      const handles: TaskHandle[] = []
      const settledEvents = new Map<string, number>()
      app.tasks.subscribe({ settled: (task) => settledEvents.set(task.id, (settledEvents.get(task.id) ?? 0) + 1) })
      const kinds: Record<string, () => unknown> = {
        'throws-sync': () => {
          throw new Error('sync')
        },
        rejects: () => Promise.reject(new Error('rejects')),
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the misuse under test
        'rejects-with-non-error': () => Promise.reject('a string'),
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the misuse under test
        'rejects-with-undefined': () => Promise.reject(undefined),
        'never-settles-but-listens': () => new Promise(() => {}),
        'settles-twice (misuse)': () => ({
          then(ok: (v: unknown) => void, fail: (e: unknown) => void) {
            ok(1)
            fail(new Error('late'))
            ok(2)
          },
        }),
        'throws-from-finally': async () => {
          try {
            await Promise.resolve()
          } finally {
            // eslint-disable-next-line no-unsafe-finally -- the misuse under test
            throw new Error('from finally')
          }
        },
        'spawns-recursively': () => {
          let depth = 0
          const spawnMore = (): void => {
            if (depth++ < 50) handles.push(app.tasks.spawn('recursive-child', () => void spawnMore()))
          }
          spawnMore()
        },
        'returns-a-plain-value': () => 42,
      }
      app.get('/fault/:kind', async (request) => {
        const kind = (request.params as { kind: string }).kind
        handles.push(request.tasks.spawn(kind, kinds[kind]!))
        return 'ok'
      })
      // A task that ignores its signal entirely.
      handles.push(app.tasks.spawn('ignores-abort', () => new Promise(() => {})))
      for (const kind of Object.keys(kinds)) assert.equal((await app.inject(`/fault/${encodeURIComponent(kind)}`)).statusCode, 200)
      // Deadlines (200 ms) pass, then the abort grace (100 ms): the never-settling tasks are flagged leaked.
      await flush()
      clock.advance(200)
      await flush()
      clock.advance(100)
      await flush()

      const states = new Map<string, string>()
      for (const h of handles) states.set(h.name, h.state)
      const debug = (await app.inject('/debug/tasks')).json<{
        summary: { live: { total: number; aborting: number }; outcomes: Record<Outcome, number>; leaked: { total: number } }
      }>()
      const metrics = samples((await app.inject('/metrics')).body)
      const finishedInMetrics = (outcome: Outcome): number =>
        [...metrics]
          .filter(([k]) => k.startsWith('fastify_tasks_finished_total{') && k.includes(`outcome="${outcome}"`))
          .reduce((s, [, v]) => s + v, 0)
      const result = { states, debug, metrics, finishedInMetrics, handles, settledEvents }
      app.tasks.drainTimeout = 0
      await app.close()
      return result
    })
    const { states, debug, finishedInMetrics, handles, settledEvents, metrics } = result
    assert.deepEqual(unhandled, [], 'no unhandledRejection')
    assert.deepEqual(uncaught, [], 'no uncaughtException')
    const expected: Record<string, string> = {
      'throws-sync': 'failed',
      rejects: 'failed',
      'rejects-with-non-error': 'failed',
      'rejects-with-undefined': 'failed',
      'never-settles-but-listens': 'aborting',
      'settles-twice (misuse)': 'completed',
      'throws-from-finally': 'failed',
      'spawns-recursively': 'completed',
      'recursive-child': 'completed',
      'returns-a-plain-value': 'completed',
      'ignores-abort': 'aborting',
    }
    assert.deepEqual(Object.fromEntries(states), expected)
    const leaked = handles
      .filter((h) => h.leaked)
      .map((h) => h.name)
      .sort()
    assert.deepEqual(leaked, ['ignores-abort', 'never-settles-but-listens'], 'tasks that never settle are flagged leaked')
    for (const h of handles) if (h.state !== 'aborting') assert.equal(settledEvents.get(h.id), 1, `${h.name} settled exactly once`)
    // The surfaces agree with the handles.
    const terminal = handles.filter((h) => h.state !== 'aborting')
    const count = (state: string): number => terminal.filter((h) => h.state === state).length
    assert.equal(debug.summary.outcomes.failed, count('failed'))
    assert.equal(debug.summary.outcomes.completed, count('completed'))
    assert.equal(debug.summary.live.aborting, 2)
    assert.equal(debug.summary.leaked.total, 2)
    assert.equal(finishedInMetrics('failed'), count('failed'))
    assert.equal(finishedInMetrics('completed'), count('completed'))
    assert.equal(metrics.get('fastify_tasks_leaked_total{task="ignores-abort"}'), 1)
    t.diagnostic(
      `faults: ${Object.keys(expected).length} kinds, ${handles.length} tasks; 0 unhandled rejections, 0 uncaught exceptions; debug and metrics counts agree`,
    )
  })

  it('throwing listeners, loggers and metric collectors do not break the scheduler or the request', async (t) => {
    const { result, unhandled, uncaught } = await watchProcess(async () => {
      const registry = new Registry()
      new Counter({
        name: 'broken_collector_total',
        help: 'A collector that throws.',
        registers: [registry],
        collect() {
          throw new Error('collector bug')
        },
      })
      // A logger whose warn and error throw: the plugin logs failed tasks through them.
      const silent = (): void => {}
      const throwing = (): never => {
        throw new Error('logger bug')
      }
      const logger = {
        level: 'info',
        fatal: silent,
        error: throwing,
        warn: throwing,
        info: silent,
        debug: silent,
        trace: silent,
        silent,
        child: () => logger,
      }
      const app = Fastify({ loggerInstance: logger as never })
      await app.register(fastifyTasks, { metrics: { registry }, onListenerError: () => {} })
      app.tasks.subscribe({
        spawned: () => {
          throw new Error('listener bug')
        },
        settled: () => {
          throw new Error('listener bug')
        },
      })
      app.get('/work', async (request) => {
        const handle = request.tasks.spawn('work', ({ log }) => {
          try {
            log.warn('a task logs through the throwing logger')
          } catch {
            // a task whose logger throws handles it like any error of its own
          }
          return 'done'
        })
        return { state: handle.state }
      })
      app.get('/fail', async (request) => {
        request.tasks.spawn('fails', () => Promise.reject(new Error('task bug')))
        return 'ok'
      })
      const responses = await Promise.all([...Array.from({ length: 20 }, () => app.inject('/work')), app.inject('/fail')])
      const scrape = await app.inject('/metrics')
      const debug = await app.inject('/debug/tasks')
      const summary = app.tasks.summary()
      await app.close()
      return { statuses: responses.map((r) => r.statusCode), scrape: scrape.statusCode, debug: debug.statusCode, summary }
    })
    assert.deepEqual(unhandled, [])
    assert.deepEqual(uncaught, [])
    assert.ok(
      result.statuses.every((s) => s === 200),
      'every request answered',
    )
    assert.equal(result.summary.outcomes.completed, 20)
    assert.equal(result.summary.outcomes.failed, 1, 'the failure was recorded although logging it threw')
    assert.equal(result.debug, 200)
    assert.equal(result.scrape, 500, "a scrape fails when the user's own collector throws, and only the scrape")
    t.diagnostic(
      'throwing listeners, logger and collector: 21/21 requests answered, 20 tasks completed and 1 failed as they should, /debug/tasks 200, /metrics 500 (the broken collector), no crash',
    )
  })
})
