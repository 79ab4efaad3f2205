import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { loopbackOnly } from '../src/index.js'
import { buildApp } from './helpers.js'

const TOKEN = 'scrape-token-0123456789'

describe('who may read /metrics', () => {
  it('by default anyone who can reach the port (as most exporters): a non-loopback peer gets 200', async () => {
    const { app } = await buildApp()
    const response = await app.inject({ url: '/metrics', remoteAddress: '203.0.113.7' })
    assert.equal(response.statusCode, 200)
    await app.close()
  })

  it('metrics.token requires the bearer token, as the debug routes do', async () => {
    const { app } = await buildApp({ metrics: { token: TOKEN } })
    const without = await app.inject('/metrics')
    assert.equal(without.statusCode, 401)
    assert.match(String(without.headers['www-authenticate']), /^Bearer/)
    assert.equal((await app.inject({ url: '/metrics', headers: { authorization: 'Bearer wrong-token-0123456789' } })).statusCode, 401)
    const ok = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })
    assert.equal(ok.statusCode, 200)
    assert.match(ok.body, /fastify_tasks_live/)
    await app.close()
  })

  it('metrics.guard: loopbackOnly refuses other peers, judged by the socket, not by X-Forwarded-For', async () => {
    const { app } = await buildApp({ metrics: { guard: loopbackOnly } })
    assert.equal((await app.inject({ url: '/metrics', remoteAddress: '127.0.0.1' })).statusCode, 200)
    const outside = await app.inject({ url: '/metrics', remoteAddress: '203.0.113.7', headers: { 'x-forwarded-for': '127.0.0.1' } })
    assert.equal(outside.statusCode, 403)
    await app.close()
  })

  it('the guard covers /metrics only, not the app routes', async () => {
    const { app } = await buildApp({ metrics: { token: TOKEN } })
    app.get('/ping', async () => 'pong')
    assert.equal((await app.inject('/ping')).statusCode, 200)
    await app.close()
  })

  it('bad token and guard values are refused by name, the token never echoed', async () => {
    await assert.rejects(
      buildApp({ metrics: { token: 'short-secret' } }),
      (error: Error) => /metrics\.token/.test(error.message) && !error.message.includes('short-secret'),
    )
    await assert.rejects(buildApp({ metrics: { guard: 'yes' as never } }), /metrics\.guard/)
    await assert.rejects(buildApp({ metrics: { token: TOKEN, guard: loopbackOnly } }), /metrics\.guard/)
  })
})
