import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { describe, it } from 'node:test'
import { sendTraffic } from '../src/traffic.js'

const SERVER = new URL('../src/server.ts', import.meta.url)

/** The demo as a user runs it: a real process on 127.0.0.1, real traffic, curl-able routes, SIGTERM. */
describe('the demo service (smoke)', { timeout: 90_000 }, () => {
  it('serves traffic, shows its tasks in /debug/tasks and /metrics, and drains on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', SERVER.pathname], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', DRAIN_TIMEOUT_MS: '1500', TASK_TIMEOUT_MS: '3000' },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const exited = once(child, 'exit')
    const logs: { msg: string; [key: string]: unknown }[] = []
    try {
      const address = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the demo did not start within 30 s')), 30_000)
        createInterface({ input: child.stdout }).on('line', (line) => {
          try {
            const entry = JSON.parse(line) as { msg: string; address?: string }
            logs.push(entry)
            if (entry.msg.startsWith('demo ready')) {
              clearTimeout(timer)
              resolve(entry.address!)
            }
          } catch {
            // not a log line
          }
        })
      })

      const summary = await sendTraffic(address, 3)
      assert.ok(summary.sent > 10, `sent ${summary.sent}`)
      assert.ok((summary.byStatus['202'] ?? 0) > 0)

      const debug = await fetch(`${address}/debug/tasks?format=text`)
      assert.equal(debug.status, 200)
      const text = await debug.text()
      assert.match(text, /^tasks: \d+ live/)
      const json = (await (await fetch(`${address}/debug/tasks`)).json()) as { summary: { spawned: number } }
      assert.ok(json.summary.spawned > 0)

      const metrics = await (await fetch(`${address}/metrics`)).text()
      assert.match(metrics, /^fastify_tasks_finished_total\{task="post-analytics",outcome="completed"\} \d+$/m)

      const signalledAt = performance.now()
      child.kill('SIGTERM')
      const [code] = (await exited) as [number | null]
      const elapsed = performance.now() - signalledAt
      // 0: everything drained; 2: something was abandoned (the leaky route's tasks ignore their signal).
      assert.ok(code === 0 || code === 2, `exit code ${code}`)
      assert.ok(elapsed < 1_500 + 2_000 + 3_000, `took ${elapsed.toFixed(0)} ms to exit`)
      assert.ok(logs.some((l) => l.msg.startsWith('background tasks drained')))
      if (code === 2) assert.ok(logs.some((l) => l.msg === 'background tasks abandoned at shutdown'))
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
  })
})
