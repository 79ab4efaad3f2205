import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { describe, it } from 'node:test'
import * as plugin from '../src/index.js'

describe('the error table', () => {
  it('docs/reference/errors.md lists exactly the codes of the scheduler and the plugin, with classes and statuses', async () => {
    const doc = await readFile(new URL('../../../docs/reference/errors.md', import.meta.url), 'utf8')
    const rows = [...doc.matchAll(/^\| `(FT_[A-Z_]+)` \| `(\w+)` \| (\d{3}) \|/gm)].map((m) => [m[1]!, m[2]!, Number(m[3])] as const)
    const table: Record<string, { statusCode: number }> = { ...plugin.ERROR_CODES, ...plugin.PLUGIN_ERROR_CODES }
    assert.deepEqual(rows.map((r) => r[0]).sort(), Object.keys(table).sort())
    for (const [code, className, status] of rows) {
      assert.equal(table[code]!.statusCode, status, `${code} status`)
      assert.equal(typeof (plugin as Record<string, unknown>)[className], 'function', `${className} is exported by fastify-tasks`)
    }
  })

  it('AlreadyRegisteredError carries its code and status', () => {
    const error = new plugin.AlreadyRegisteredError()
    assert.equal(error.code, 'FT_ALREADY_REGISTERED')
    assert.equal(error.statusCode, 500)
  })
})
