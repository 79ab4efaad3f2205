import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { describe, it } from 'node:test'
import * as plugin from '../src/index.js'
import { buildApp, deferred } from './helpers.js'

const { ERROR_CODES } = plugin

/** One error of every class the suite exports, the scheduler's and the plugin's. */
const SAMPLES: Error[] = [
  new plugin.QueueFullError('t', 1, 1),
  new plugin.OverloadedError('t', 'low', 1),
  new plugin.ClosingError('t', 1),
  new plugin.InvalidOptionError('x', 'y', 1),
  new plugin.TaskAbortedError('t', 'operator'),
  new plugin.UnknownTaskError('t', 'not in tasks'),
  new plugin.InvalidPayloadError('t', 'payload.a', 'must be string', 'spawn'),
  new plugin.PayloadTooLargeError('t', 70_000, 65_536),
  new plugin.InvalidResultError('t', 'result', 'is a Date'),
  new plugin.BackendUnavailableError('t', 'bullmq', 1, new Error('Command timed out')),
  new plugin.NotDurableError('t', 'bullmq'),
  new plugin.AlreadyRegisteredError(),
  new plugin.DecoratorTakenError(),
  new plugin.OverloadedRequestError('eventLoopDelay'),
  new plugin.DebugForbiddenError('203.0.113.9'),
  new plugin.DebugUnauthorizedError(),
  new plugin.TaskNotFoundError('1'),
  new plugin.TaskNotCancellableError('1'),
  new plugin.InvalidParameterError('querystring/limit', 'an integer', '"x"'),
]

function codeOf(error: Error): string {
  return (error as Error & { code: string }).code
}

describe('the error table', () => {
  it('docs/reference/errors.md lists exactly the codes of ERROR_CODES, each with its status and an exported class of that code', async () => {
    const doc = await readFile(new URL('../../../docs/reference/errors.md', import.meta.url), 'utf8')
    const rows = [...doc.matchAll(/^\| `(FT_[A-Z_]+)` \| `(\w+)` \| (\d{3}) \|/gm)].map((m) => [m[1]!, m[2]!, Number(m[3])] as const)
    assert.deepEqual(rows.map((r) => r[0]).sort(), Object.keys(ERROR_CODES).sort())
    for (const [code, className, status] of rows) {
      assert.equal(ERROR_CODES[code as plugin.ErrorCode].statusCode, status, `${code} status`)
      const ErrorClass = (plugin as Record<string, unknown>)[className]
      assert.equal(typeof ErrorClass, 'function', `${className} is exported by fastify-tasks`)
      const sample = SAMPLES.find((error) => error instanceof (ErrorClass as new () => Error))
      assert.ok(sample !== undefined, `an error of ${className} is checked`)
      assert.equal(codeOf(sample), code, `${className} carries ${code}`)
    }
  })

  it('every code of the suite has a class, and every row a meaning', () => {
    assert.deepEqual(SAMPLES.map(codeOf).sort(), Object.keys(ERROR_CODES).sort())
    for (const [code, { meaning }] of Object.entries(ERROR_CODES)) assert.ok(meaning.length > 10, `${code} has a meaning`)
  })

  it("the plugin's own errors take their status from ERROR_CODES", () => {
    for (const error of SAMPLES.filter((e) => !(e instanceof plugin.TasksError))) {
      assert.equal(
        (error as Error & { statusCode: number }).statusCode,
        ERROR_CODES[codeOf(error) as plugin.ErrorCode].statusCode,
        codeOf(error),
      )
    }
    const error = new plugin.AlreadyRegisteredError()
    assert.equal(error.code, 'FT_ALREADY_REGISTERED')
    assert.equal(error.statusCode, 500)
  })
})

describe('a refused spawn at the HTTP layer', () => {
  it('app.tasks.spawn throws the same AdmissionError the rejected listeners saw, with statusCode 503 and Retry-After added', async () => {
    const { app } = await buildApp({ concurrency: 1, maxQueue: 0, retryAfter: 2.5 })
    const gate = deferred()
    app.tasks.spawn('blocker', () => gate.promise)
    const seen: unknown[] = []
    app.tasks.subscribe({ rejected: ({ error }) => void seen.push(error) })
    assert.throws(
      () => app.tasks.spawn('report', () => 1),
      (error: unknown) => {
        assert.ok(error instanceof plugin.QueueFullError)
        assert.ok(error instanceof plugin.AdmissionError)
        assert.equal(error.code, 'FT_QUEUE_FULL')
        assert.equal(error.reason, 'queue_full')
        assert.equal(error.retryAfter, 2.5)
        const answer = error as unknown as { statusCode: unknown; headers: unknown }
        assert.equal(answer.statusCode, ERROR_CODES.FT_QUEUE_FULL.statusCode)
        assert.deepEqual(answer.headers, { 'retry-after': '3' })
        assert.equal(seen[0], error)
        return true
      },
    )
    // trySpawn does not throw, and has nothing to add.
    assert.equal(
      app.tasks.trySpawn('report', () => 1),
      undefined,
    )
    gate.resolve()
    await app.close()
  })

  it('a handler that catches the refusal reads its class, code and reason, and the status from ERROR_CODES', async () => {
    const { app } = await buildApp({ concurrency: 1, maxQueue: 0 })
    const gate = deferred()
    app.tasks.spawn('blocker', () => gate.promise)
    app.post('/work', async (request, reply) => {
      try {
        request.tasks.spawn('report', () => 1)
      } catch (error) {
        if (!(error instanceof plugin.AdmissionError)) throw error
        return reply
          .code(ERROR_CODES[error.code].statusCode)
          .send({ queueFull: error instanceof plugin.QueueFullError, code: error.code, reason: error.reason })
      }
      return reply.code(202).send()
    })
    const response = await app.inject({ method: 'POST', url: '/work' })
    assert.equal(response.statusCode, 503)
    assert.deepEqual(response.json(), { queueFull: true, code: 'FT_QUEUE_FULL', reason: 'queue_full' })
    gate.resolve()
    await app.close()
  })

  it('a spawn refused by a closing scheduler answers 503 with Retry-After (ClosingError)', async () => {
    const { app } = await buildApp({ retryAfter: 4 })
    app.post('/work', async (request, reply) => {
      request.tasks.spawn('report', () => 1)
      return reply.code(202).send()
    })
    const closed = app.tasks.close()
    const response = await app.inject({ method: 'POST', url: '/work' })
    assert.equal(response.statusCode, 503)
    assert.equal(response.headers['retry-after'], '4')
    assert.equal(response.json<{ code: string }>().code, 'FT_CLOSING')
    await closed
    await app.close()
  })

  it('an InvalidOptionError escaping a handler stays a 500, without Retry-After', async () => {
    const { app } = await buildApp()
    app.post('/work', async (request, reply) => {
      request.tasks.spawn('report', 'not a function' as never)
      return reply.code(202).send()
    })
    const response = await app.inject({ method: 'POST', url: '/work' })
    assert.equal(response.statusCode, 500)
    assert.equal(response.headers['retry-after'], undefined)
    assert.equal(response.json<{ code: string }>().code, 'FT_INVALID_OPTION')
    await app.close()
  })
})
