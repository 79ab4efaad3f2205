import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { describe, it } from 'node:test'
import * as plugin from '../src/index.js'

const { ERROR_CODES } = plugin

/** One error of every class the suite exports, the scheduler's and the plugin's. */
const SAMPLES: Error[] = [
  new plugin.QueueFullError('t', 1, 1),
  new plugin.OverloadedError('t', 'low', 1),
  new plugin.ClosingError('t', 1),
  new plugin.InvalidOptionError('x', 'y', 1),
  new plugin.TaskAbortedError('t', 'operator'),
  new plugin.AlreadyRegisteredError(),
  new plugin.DecoratorTakenError(),
  new plugin.OverloadedRequestError('eventLoopDelay'),
  new plugin.DebugForbiddenError('203.0.113.9'),
  new plugin.DebugUnauthorizedError(),
  new plugin.TaskNotFoundError('1'),
  new plugin.TaskNotCancellableError('1'),
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
      assert.equal((error as Error & { statusCode: number }).statusCode, ERROR_CODES[codeOf(error) as plugin.ErrorCode].statusCode, codeOf(error))
    }
    const error = new plugin.AlreadyRegisteredError()
    assert.equal(error.code, 'FT_ALREADY_REGISTERED')
    assert.equal(error.statusCode, 500)
  })
})
