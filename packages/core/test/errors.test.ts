import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as core from '../src/index.js'

// The error table (code → HTTP status, meaning) is the suite's, in fastify-tasks, whose test keeps it
// in sync with docs/reference/errors.md. The core's errors carry a code and nothing of HTTP.
describe("the scheduler's errors", () => {
  const cases: [core.TasksError, core.ErrorCode][] = [
    [new core.QueueFullError('t', 1, 1.5), 'FT_QUEUE_FULL'],
    [new core.OverloadedError('t', 'low', 1.5), 'FT_OVERLOADED'],
    [new core.ClosingError('t', 1.5), 'FT_CLOSING'],
    [new core.InvalidOptionError('x', 'y', 1), 'FT_INVALID_OPTION'],
    [new core.TaskAbortedError('t', 'operator'), 'FT_TASK_ABORTED'],
  ]

  it('every error class carries its code', () => {
    for (const [error, code] of cases) {
      assert.equal(error.code, code)
      assert.ok(error instanceof core.TasksError)
      assert.ok(error instanceof Error)
    }
  })

  it('carry no HTTP: no statusCode, status or headers, own or inherited (the plugin adds them at the HTTP layer)', () => {
    for (const [error, code] of cases) {
      for (const field of ['statusCode', 'status', 'headers']) assert.ok(!(field in error), `${code} has no ${field}`)
    }
  })

  it('an admission error keeps its retryAfter hint in seconds, as given', () => {
    const error = new core.QueueFullError('t', 1, 1.5)
    assert.equal(error.retryAfter, 1.5)
    assert.equal(error.reason, 'queue_full')
    assert.equal(error.task, 't')
  })
})
