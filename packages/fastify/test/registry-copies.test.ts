import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Counter as OtherCounter, Registry as OtherRegistry } from 'prom-client-other-copy'
import { Registry } from 'prom-client'
import { buildApp } from './helpers.js'

describe("a prom-client registry from another copy of prom-client (the app's own dependency)", () => {
  it('is two copies indeed: instanceof would refuse it', () => {
    assert.equal(new OtherRegistry() instanceof Registry, false)
  })

  it("is accepted: the app's metrics and the user's own appear in one exposition", async () => {
    const registry = new OtherRegistry()
    const orders = new OtherCounter({ name: 'orders_total', help: 'Orders taken.', registers: [registry] })
    orders.inc(3)
    const { app } = await buildApp({ metrics: { registry: registry } })
    await app.tasks.spawn('mail', () => 'sent').settled
    const body = (await app.inject('/metrics')).body
    assert.match(body, /^orders_total 3$/m)
    assert.match(body, /^fastify_tasks_finished_total\{task="mail",outcome="completed"\} 1$/m)
    assert.match(body, /^fastify_tasks_duration_seconds_count\{task="mail",outcome="completed"\} 1$/m)
    await app.close()
    assert.equal(registry.getSingleMetric('fastify_tasks_finished_total'), undefined, 'removed from a shared registry on close')
    assert.notEqual(registry.getSingleMetric('orders_total'), undefined, "the user's own metric stays")
  })

  it('something that is not a registry is refused by name, saying what a registry needs', async () => {
    await assert.rejects(
      buildApp({ metrics: { registry: { metrics: () => '' } as unknown as Registry } }),
      /metrics\.registry.*registerMetric/,
    )
  })
})
