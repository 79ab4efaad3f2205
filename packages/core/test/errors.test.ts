import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { describe, it } from 'node:test'
import * as core from '../src/index.js'

const { ERROR_CODES } = core

describe('the error table', () => {
  it('docs/reference/errors.md lists every code of ERROR_CODES with its class and status', async () => {
    const doc = await readFile(new URL('../../../docs/reference/errors.md', import.meta.url), 'utf8')
    const rows = [...doc.matchAll(/^\| `(FT_[A-Z_]+)` \| `(\w+)` \| (\d{3}) \|/gm)].map((m) => [m[1], m[2], Number(m[3])])
    const documented = new Set(rows.map((r) => r[0]))
    for (const code of Object.keys(ERROR_CODES)) assert.ok(documented.has(code), `${code} is documented`)
    for (const [code, className, status] of rows) {
      if (!(code! in ERROR_CODES)) continue // another package's code: its own test checks it
      const entry = ERROR_CODES[code as keyof typeof ERROR_CODES]
      assert.equal(entry.statusCode, status, `${code} status`)
      const ErrorClass = (core as unknown as Record<string, unknown>)[className as string]
      assert.equal(typeof ErrorClass, 'function', `${className} is exported`)
    }
  })

  it('every error class carries its code and status', () => {
    const cases: [core.TasksError, core.ErrorCode][] = [
      [new core.QueueFullError('t', 1, 1), 'FT_QUEUE_FULL'],
      [new core.OverloadedError('t', 'low', 1), 'FT_OVERLOADED'],
      [new core.ClosingError('t', 1), 'FT_CLOSING'],
      [new core.InvalidOptionError('x', 'y', 1), 'FT_INVALID_OPTION'],
      [new core.TaskAbortedError('t', 'operator'), 'FT_TASK_ABORTED'],
    ]
    for (const [error, code] of cases) {
      assert.equal(error.code, code)
      assert.equal(error.statusCode, ERROR_CODES[code].statusCode)
      assert.ok(error instanceof core.TasksError)
      assert.ok(error instanceof Error)
    }
  })
})
