import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { describe, it } from 'node:test'
import { sendTraffic } from '../src/traffic.js'

const SERVER = new URL('../src/server.ts', import.meta.url)
const DRAIN_MS = 1_500
/** The demo's abort grace (src/app.ts). */
const GRACE_MS = 2_000
/**
 * Exiting within the drain budget is the property under test, so the exit time is held to that budget
 * plus this margin for process teardown on a busy machine. Generous on purpose: it tells a drain that
 * stopped at its budget from one that did not stop at all, not a fast exit from a slow one.
 */
const EXIT_MARGIN_MS = 10_000

/** The demo as a user runs it: a real process on 127.0.0.1, real traffic, curl-able routes, SIGTERM. */
describe('the demo service (smoke)', { timeout: 90_000 }, () => {
  it('serves traffic, shows its tasks in /debug/tasks and /metrics, and drains on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', SERVER.pathname], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', DRAIN_TIMEOUT_MS: String(DRAIN_MS), TASK_TIMEOUT_MS: '3000' },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    // 'close' (stdout read to its end), not 'exit': the last log lines may still be in the pipe at exit.
    const exited = once(child, 'close')
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
      assert.match(text, /^(attention: .+\n)*tasks: \d+ live/)
      const json = (await (await fetch(`${address}/debug/tasks`)).json()) as { summary: { spawned: number } }
      assert.ok(json.summary.spawned > 0)

      const metrics = await (await fetch(`${address}/metrics`)).text()
      assert.match(metrics, /^fastify_tasks_finished_total\{task="post-analytics",outcome="completed"\} \d+$/m)

      const signalledAt = performance.now()
      child.kill('SIGTERM')
      const killer = setTimeout(() => child.kill('SIGKILL'), DRAIN_MS + GRACE_MS + EXIT_MARGIN_MS + 5_000)
      const [code] = (await exited) as [number | null]
      clearTimeout(killer)
      const elapsed = performance.now() - signalledAt
      // 0: everything drained; 2: something was abandoned (the leaky route's tasks ignore their signal).
      // The traffic is random, so either can happen; the logs must agree with whichever it was.
      assert.ok(code === 0 || code === 2, `exit code ${code}`)
      assert.ok(elapsed < DRAIN_MS + GRACE_MS + EXIT_MARGIN_MS, `took ${elapsed.toFixed(0)} ms to exit`)
      const drained = logs.find((l) => l.msg.startsWith('background tasks drained'))
      assert.ok(drained !== undefined, 'the drain logged its summary')
      assert.equal(drained['clean'], code === 0, `the summary's clean flag matches exit code ${code}`)
      assert.equal(
        logs.some((l) => l.msg === 'background tasks abandoned at shutdown'),
        code === 2,
        `abandoned tasks are reported exactly when the exit code is 2 (it was ${code})`,
      )
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
  })
})
