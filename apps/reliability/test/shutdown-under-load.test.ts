import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface, type Interface } from 'node:readline'
import { describe, it } from 'node:test'

const FIXTURE = new URL('./fixtures/load-server.ts', import.meta.url)
/**
 * Exiting within the drain budget is the property under test, so the exit time is held to that budget
 * plus this margin for process teardown on a busy machine. Generous on purpose: it tells a drain that
 * stopped at its budget from one that did not stop at all, not a fast exit from a slow one.
 */
const EXIT_MARGIN_MS = 10_000

interface Server {
  child: ChildProcess
  address: string
  lines: Record<string, unknown>[]
  reader: Interface
  exited: Promise<{ code: number | null; at: number }>
}

async function start(env: Record<string, number>): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE.pathname], {
    env: { ...process.env, ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])) },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const lines: Record<string, unknown>[] = []
  // 'close' (stdout read to its end), not 'exit': the last log lines may still be in the pipe at exit.
  const exited = once(child, 'close').then(([code]) => ({ code: code as number | null, at: performance.now() }))
  const reader = createInterface({ input: child.stdout })
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no start within 30 s')), 30_000)
    reader.on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>
        lines.push(parsed)
        if (parsed['msg'] === 'listening') {
          clearTimeout(timer)
          resolve(parsed['address'] as string)
        }
      } catch {
        // not JSON
      }
    })
    void exited.then(() => reject(new Error('exited before listening')))
  })
  return { child, address, lines, reader, exited }
}

/** The first line with this message, written already or to come; rejects after `ms` or when the server exits without it. */
async function line(server: Server, msg: string, ms = 10_000): Promise<Record<string, unknown>> {
  const find = (): Record<string, unknown> | undefined => server.lines.find((l) => l['msg'] === msg)
  const seen = find()
  if (seen !== undefined) return seen
  let stop = (): void => {}
  try {
    return await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no '${msg}' line within ${ms} ms`)), ms)
      // Registered after start()'s listener, so the line is in `lines` when this runs.
      const onLine = (): void => {
        const found = find()
        if (found !== undefined) resolve(found)
      }
      server.reader.on('line', onLine)
      stop = () => {
        clearTimeout(timer)
        server.reader.off('line', onLine)
      }
      void server.exited.then(() => reject(new Error(`the server exited without a '${msg}' line`)))
    })
  } finally {
    stop()
  }
}

/**
 * Sends `count` tasks of one kind, `parallel` at a time; returns how many were admitted (202).
 * `onAdmitted` runs after each admission.
 */
async function send(
  server: Server,
  name: string,
  ms: number,
  obey: boolean,
  count: number,
  parallel = 50,
  onAdmitted = (): void => {},
): Promise<number> {
  let admitted = 0
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++
      try {
        const response = await fetch(`${server.address}/work?name=${name}&ms=${ms}&obey=${obey ? 1 : 0}`, { method: 'POST' })
        await response.arrayBuffer()
        if (response.status === 202) {
          admitted++
          onAdmitted()
        }
      } catch {
        // refused or reset: the server is closing; not admitted
      }
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker))
  return admitted
}

async function exitWithin(server: Server, ms: number): Promise<{ code: number | null; at: number }> {
  const timer = setTimeout(() => server.child.kill('SIGKILL'), ms)
  try {
    return await server.exited
  } finally {
    clearTimeout(timer)
  }
}

const summaryOf = (server: Server): { completed: Record<string, number> } =>
  server.lines.find((l) => l['msg'] === 'exit summary') as { completed: Record<string, number> }
const abandonedOf = (server: Server, name: string): Record<string, unknown> | undefined =>
  server.lines.find((l) => l['msg'] === 'background tasks abandoned at shutdown' && l['task'] === name)

describe('shutdown under load (real processes)', { timeout: 180_000 }, () => {
  it('SIGTERM during traffic with thousands of in-flight tasks: what could finish did, the rest is reported, exit in time', async (t) => {
    const env = { DRAIN_MS: 2_000, GRACE_MS: 500 }
    const server = await start(env)
    const admitted = {
      short: await send(server, 'short', 100, true, 1_000),
      medium: await send(server, 'medium', 1_000, true, 1_000),
      long: await send(server, 'long', 60_000, true, 1_000),
    }
    // More traffic is still arriving when the signal lands: it is sent once the first of it was admitted.
    let flowing = (): void => {}
    const trafficFlows = new Promise<void>((resolve) => (flowing = resolve))
    const late = send(server, 'late-short', 50, true, 500, 20, () => flowing())
    await Promise.race([trafficFlows, late])
    const signalledAt = performance.now()
    server.child.kill('SIGTERM')
    const lateAdmitted = await late
    const { code, at } = await exitWithin(server, 20_000)
    const elapsed = at - signalledAt
    const { completed } = summaryOf(server)
    assert.equal(code, 2, 'exit 2: tasks were abandoned, and said so')
    assert.equal(completed['short'], admitted.short, 'every short task completed')
    assert.equal(completed['medium'], admitted.medium, 'every medium task completed')
    assert.equal(completed['late-short'] ?? 0, lateAdmitted, 'every task admitted during the close completed')
    assert.equal(abandonedOf(server, 'long')?.['count'], admitted.long, 'every long task reported as abandoned')
    assert.ok(elapsed < env.DRAIN_MS + env.GRACE_MS + EXIT_MARGIN_MS, `exited ${elapsed.toFixed(0)} ms after SIGTERM`)
    t.diagnostic(
      `SIGTERM under load: admitted ${admitted.short} short + ${admitted.medium} medium + ${admitted.long} long + ${lateAdmitted} during the close; ` +
        `completed ${completed['short']} + ${completed['medium']} + ${completed['late-short'] ?? 0}; abandoned long ${String(abandonedOf(server, 'long')?.['count'])}; ` +
        `exit ${code} after ${elapsed.toFixed(0)} ms (budget ${env.DRAIN_MS} + ${env.GRACE_MS} ms)`,
    )
  })

  it('tasks that ignore their signal are reported unsettled, and the process still exits on time', async (t) => {
    const env = { DRAIN_MS: 1_000, GRACE_MS: 300 }
    const server = await start(env)
    const admitted = { short: await send(server, 'short', 100, true, 500), stubborn: await send(server, 'stubborn', 60_000, false, 500) }
    const signalledAt = performance.now()
    server.child.kill('SIGTERM')
    const { code, at } = await exitWithin(server, 20_000)
    const elapsed = at - signalledAt
    assert.equal(code, 2)
    assert.equal(summaryOf(server).completed['short'], admitted.short)
    const stubborn = abandonedOf(server, 'stubborn')!
    assert.equal(stubborn['count'], admitted.stubborn)
    assert.equal(stubborn['unsettled'], admitted.stubborn)
    assert.ok(elapsed < env.DRAIN_MS + env.GRACE_MS + EXIT_MARGIN_MS, `exited ${elapsed.toFixed(0)} ms after SIGTERM`)
    t.diagnostic(
      `ignored aborts: ${admitted.stubborn} stubborn tasks reported unsettled; ${admitted.short} short completed; exit ${code} after ${elapsed.toFixed(0)} ms`,
    )
  })

  it('a second signal mid-drain forces the exit', async (t) => {
    // No duplicate window: any second signal, however soon, is a person insisting.
    const env = { DRAIN_MS: 20_000, GRACE_MS: 300, DUPLICATE_MS: 0 }
    const server = await start(env)
    await send(server, 'long', 60_000, true, 500)
    server.child.kill('SIGTERM')
    await line(server, 'closing')
    const secondAt = performance.now()
    server.child.kill('SIGTERM')
    const { code, at } = await exitWithin(server, env.DRAIN_MS)
    assert.equal(code, 1)
    assert.ok(
      server.lines.some((l) => l['msg'] === 'second signal while closing: exiting now'),
      'the forced exit says why',
    )
    // The drain had 20 s left: exiting within the margin means it was cut short.
    assert.ok(at - secondAt < EXIT_MARGIN_MS, `exited ${(at - secondAt).toFixed(0)} ms after the second signal`)
    t.diagnostic(`second signal: exit ${code} ${(at - secondAt).toFixed(0)} ms after it (drain budget was 20 s)`)
  })
})
