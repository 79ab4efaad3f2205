import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { buildApp } from './helpers.js'

describe('secrets in option errors', () => {
  it('a too-short debug.token is refused without echoing it', async () => {
    await assert.rejects(buildApp({ debug: { token: 'sekrit-value' } }), (error: Error) => {
      assert.match(error.message, /debug\.token/)
      assert.doesNotMatch(error.message, /sekrit/)
      return true
    })
  })

  it('a misspelled token option is refused without echoing its value', async () => {
    await assert.rejects(buildApp({ debug: { tokn: 'a-real-looking-secret-value' } as never }), (error: Error) => {
      assert.match(error.message, /did you mean token\?/)
      assert.doesNotMatch(error.message, /real-looking/)
      return true
    })
  })
})
