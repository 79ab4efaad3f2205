import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { describe, it } from 'node:test'
import { createInterface, type Interface } from 'node:readline'
import { ManualClock } from '@fastify-tasks/core/testing'
import { EXIT_CODES, listenGracefully } from '../src/index.js'
import { ForwardedSignals } from '../src/shutdown/forwarded-signals.js'
import { RecycleWatch, resolveRecycleOptions, type RecycleTrigger } from '../src/shutdown/recycle.js'
import { buildApp, type LogLine } from './helpers.js'

const FIXTURE = new URL('./fixtures/graceful-server.ts', import.meta.url)
/**
 * Exiting within the drain budget is the property under test, so exit times are held to that budget
 * plus this margin for process teardown on a busy machine. Generous on purpose: it tells a drain that
 * stopped at its budget from one that did not stop at all, not a fast exit from a slow one.
 */
const EXIT_MARGIN_MS = 10_000

interface Server {
  child: ChildProcess
  address: string
  logs: LogLine[]
  lines: Interface
  exited: Promise<{ code: number | null; at: number }>
}

/** Starts the fixture server (127.0.0.1, port 0) and waits until it listens; gives up after 20 s. */
async function startServer(env: Record<string, number>): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE.pathname], {
    env: { ...process.env, ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])) },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const logs: LogLine[] = []
  // 'close' (stdout read to its end), not 'exit': the last log lines may still be in the pipe at exit.
  const exited = once(child, 'close').then(([code]) => ({ code: code as number | null, at: performance.now() }))
  const lines = createInterface({ input: child.stdout })
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start within 20 s')), 20_000)
    lines.on('line', (line) => {
      let parsed: LogLine
      try {
        parsed = JSON.parse(line) as LogLine
      } catch {
        return
      }
      logs.push(parsed)
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(parsed.msg)
      if (match !== null) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    })
    void exited.then(() => reject(new Error('server exited before listening')))
  })
  return { child, address, logs, lines, exited }
}

/** The first log line with this message, written already or to come; rejects after `ms` or when the server exits without it. */
async function logLine(server: Server, msg: string, ms = 10_000): Promise<LogLine> {
  const find = (): LogLine | undefined => server.logs.find((l) => l.msg === msg)
  const seen = find()
  if (seen !== undefined) return seen
  let stop = (): void => {}
  try {
    return await new Promise<LogLine>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no '${msg}' line within ${ms} ms`)), ms)
      // Registered after startServer's listener, so the line is in `logs` when this runs.
      const onLine = (): void => {
        const line = find()
        if (line !== undefined) resolve(line)
      }
      server.lines.on('line', onLine)
      stop = () => {
        clearTimeout(timer)
        server.lines.off('line', onLine)
      }
      void server.exited.then(() => reject(new Error(`the server exited without a '${msg}' line`)))
    })
  } finally {
    stop()
  }
}

async function spawnTask(server: Server, name: string, ms: number, obey = true): Promise<void> {
  const response = await fetch(`${server.address}/tasks?name=${name}&ms=${ms}&obey=${obey ? 1 : 0}`, { method: 'POST' })
  assert.equal(response.status, 202)
}

/** Waits for exit, killing the child if it is still alive after `ms` so no process is left behind. */
async function exitWithin(server: Server, ms: number): Promise<{ code: number | null; at: number }> {
  const timer = setTimeout(() => server.child.kill('SIGKILL'), ms)
  try {
    return await server.exited
  } finally {
    clearTimeout(timer)
  }
}

const done = (server: Server): string[] =>
  server.logs
    .filter((l) => l.msg === 'task done')
    .map((l) => String(l['task']))
    .sort()
/** The abandoned-group lines, by task name (lines written in the same millisecond can reach the pipe out of order). */
const abandoned = (server: Server): [unknown, unknown, unknown, unknown][] =>
  server.logs
    .filter((l) => l.msg === 'background tasks abandoned at shutdown')
    .map((l): [unknown, unknown, unknown, unknown] => [l['task'], l['count'], l['aborted'], l['unsettled']])
    .sort((a, b) => String(a[0]).localeCompare(String(b[0])))

describe('listenGracefully: a real server process', { timeout: 60_000 }, () => {
  it('on SIGTERM finishes what can finish, aborts the rest, reports them by name and exits 2 within the budget', async () => {
    const env = { DRAIN_MS: 1_000, GRACE_MS: 300, INTERRUPT_MS: 200 }
    const server = await startServer(env)
    await spawnTask(server, 'quick', 100)
    await spawnTask(server, 'quick', 100)
    await spawnTask(server, 'medium', 500)
    for (let i = 0; i < 3; i++) await spawnTask(server, 'long', 30_000)
    await spawnTask(server, 'stubborn', 30_000, false)
    const signalledAt = performance.now()
    server.child.kill('SIGTERM')
    const { code, at } = await exitWithin(server, 15_000)
    const elapsed = at - signalledAt
    assert.equal(code, EXIT_CODES.abandoned)
    assert.deepEqual(done(server), ['medium', 'quick', 'quick'])
    assert.deepEqual(abandoned(server), [
      ['long', 3, 3, 0],
      ['stubborn', 1, 1, 1],
    ])
    const summary = server.logs.find((l) => l.msg.startsWith('background tasks drained'))!
    assert.equal(summary['clean'], false)
    assert.equal(summary['aborted'], 4)
    // Not before the drain budget; within drain budget + abort grace, plus the margin.
    assert.ok(elapsed >= env.DRAIN_MS, `exited after ${elapsed.toFixed(0)} ms, before the drain budget`)
    assert.ok(elapsed < env.DRAIN_MS + env.GRACE_MS + EXIT_MARGIN_MS, `exited after ${elapsed.toFixed(0)} ms`)
  })

  it('on SIGINT uses the shorter interactive budget', async () => {
    const env = { DRAIN_MS: 5_000, GRACE_MS: 200, INTERRUPT_MS: 200 }
    const server = await startServer(env)
    await spawnTask(server, 'medium', 1_500)
    const signalledAt = performance.now()
    server.child.kill('SIGINT')
    const { code, at } = await exitWithin(server, 15_000)
    assert.equal(code, EXIT_CODES.abandoned)
    // The 1.5 s task would have finished within the 5 s SIGTERM budget: abandoning it shows the 200 ms one was used.
    assert.deepEqual(abandoned(server), [['medium', 1, 1, 0]])
    assert.equal(server.logs.find((l) => l.msg === 'closing')?.['drainTimeoutMs'], env.INTERRUPT_MS)
    assert.deepEqual(
      server.logs.find((l) => l.msg === 'graceful server ready')?.['drainTimeouts'],
      { terminate: env.DRAIN_MS, interrupt: env.INTERRUPT_MS },
      'GracefulServer.drainTimeouts',
    )
    assert.ok(at - signalledAt < env.INTERRUPT_MS + env.GRACE_MS + EXIT_MARGIN_MS, `exited after ${(at - signalledAt).toFixed(0)} ms`)
  })

  it('one Ctrl-C delivered twice (the terminal and a process manager forwarding it) still drains', async () => {
    for (const [firstSignal, secondSignal] of [
      ['SIGINT', 'SIGINT'],
      ['SIGINT', 'SIGTERM'],
    ] as const) {
      // A window far wider than this test needs, so the copy falls within it on any machine.
      const server = await startServer({ DRAIN_MS: 2_000, GRACE_MS: 200, INTERRUPT_MS: 1_000, DUPLICATE_MS: 60_000 })
      await spawnTask(server, 'quick', 300)
      server.child.kill(firstSignal)
      // The forwarded copy comes once the server has begun closing.
      await logLine(server, 'closing')
      server.child.kill(secondSignal)
      const duplicate = await logLine(server, 'duplicate signal ignored (forwarded by a process manager)')
      assert.equal(duplicate['signal'], secondSignal)
      const { code } = await exitWithin(server, 15_000)
      assert.equal(
        code,
        EXIT_CODES.drained,
        `${firstSignal} then ${secondSignal} at once: the drain ran (${server.logs.map((l) => l.msg).join(' | ')})`,
      )
      assert.deepEqual(done(server), ['quick'])
      assert.ok(!server.logs.some((l) => l.msg.includes('second signal')))
    }
  })

  it('exits 0 when everything drained, and a second signal forces the exit', async () => {
    const clean = await startServer({ DRAIN_MS: 2_000, GRACE_MS: 200, INTERRUPT_MS: 200 })
    await spawnTask(clean, 'quick', 100)
    clean.child.kill('SIGTERM')
    assert.equal((await exitWithin(clean, 15_000)).code, EXIT_CODES.drained)
    assert.deepEqual(done(clean), ['quick'])

    // A drain budget (30 s) well beyond the margin and the kill below, so only the second signal can end it in time.
    // No duplicate window: any second signal, however soon, is a person insisting.
    const forced = await startServer({ DRAIN_MS: 30_000, GRACE_MS: 200, INTERRUPT_MS: 200, DUPLICATE_MS: 0 })
    await spawnTask(forced, 'long', 60_000)
    forced.child.kill('SIGTERM')
    await logLine(forced, 'closing')
    const secondAt = performance.now()
    forced.child.kill('SIGTERM')
    const { code, at } = await exitWithin(forced, 15_000)
    assert.equal(code, EXIT_CODES.failed)
    assert.ok(at - secondAt < EXIT_MARGIN_MS, `second signal took ${(at - secondAt).toFixed(0)} ms to exit`)
    assert.ok(forced.logs.some((l) => l.msg.includes('second signal')))
  })
})

describe('listenGracefully: recycling', { timeout: 60_000 }, () => {
  it('a process whose leaked tasks stay over the threshold logs the leak report, drains and exits 3 (recycled)', async () => {
    const server = await startServer({ DRAIN_MS: 2_000, GRACE_MS: 100, INTERRUPT_MS: 200, TIMEOUT_MS: 100, RECYCLE_LEAKED: 0 })
    // Ignores its signal past its 100 ms deadline: leaked 100 ms later, and stays so (its call lasts a minute).
    await spawnTask(server, 'deaf-partner', 60_000, false)
    const report = await logLine(server, 'leak report before recycling', 20_000)
    const { code } = await exitWithin(server, 20_000)
    assert.equal(code, EXIT_CODES.recycled)
    const leaks = report['leaks'] as { task: string; count: number; leaked: number }[]
    assert.deepEqual(
      leaks.map((l) => [l.task, l.count, l.leaked]),
      [['deaf-partner', 1, 1]],
    )
    const recycling = server.logs.find((l) => l.msg.startsWith('recycling: leaked stayed above 0 for 300 ms'))
    assert.ok(recycling !== undefined, 'says why')
    assert.equal(recycling['exitCode'], 3)
    const order = (prefix: string): number => server.logs.findIndex((l) => l.msg.startsWith(prefix))
    const seen = server.logs.map((l) => l.msg.slice(0, 40)).join(' | ')
    assert.ok(order('leak report before recycling') < order('recycling: '), `the report comes first: ${seen}`)
    assert.ok(order('background tasks drained') > order('recycling: '), `then the drain: ${seen}`)
  })

  it('stays put while a figure dips under its threshold within the window, and recycles once it stays over (manual clock)', () => {
    const clock = new ManualClock()
    let leaked = 0
    const triggers: RecycleTrigger[] = []
    const watch = new RecycleWatch(
      clock,
      () => ({ rssBytes: 1, heapUsedBytes: 1, leaked }),
      resolveRecycleOptions({ maxLeaked: 2, window: 1_000, checkEvery: 100 }),
      (trigger) => triggers.push(trigger),
    )
    leaked = 3
    clock.advance(900)
    leaked = 2
    clock.advance(100) // at the threshold, not above: the window starts again
    leaked = 5
    clock.advance(900)
    assert.deepEqual(triggers, [])
    clock.advance(200)
    assert.deepEqual(triggers, [{ figure: 'leaked', value: 5, threshold: 2, aboveForMs: 1_000 }])
    clock.advance(10_000)
    assert.equal(triggers.length, 1, 'once')
    watch.stop()
  })

  it('refuses recycle options that watch nothing or are not numbers, naming them, before listening', async () => {
    const { app } = await buildApp()
    for (const [recycle, named] of [
      [{}, /listenGracefully\(options\.recycle\): expected at least one of maxRssBytes, maxHeapUsedBytes and maxLeaked/],
      [{ maxLeaked: -1 }, /listenGracefully\(options\.recycle\.maxLeaked\)/],
      [{ maxRssBytes: '1GB' }, /listenGracefully\(options\.recycle\.maxRssBytes\)/],
      [{ maxLeaked: 1, window: -5 }, /listenGracefully\(options\.recycle\.window\)/],
      [{ maxLeaked: 1, checkEvery: 0 }, /listenGracefully\(options\.recycle\.checkEvery\)/],
      [{ maxLeaked: 1, maxRss: 5 }, /listenGracefully\(options\.recycle\)\.maxRss/],
    ] as const) {
      await assert.rejects(listenGracefully(app, { recycle: recycle as never }), named)
    }
    assert.equal(app.server.listening, false)
    await app.close()
  })
})

describe('listenGracefully: one Ctrl-C forwarded twice, on a manual clock', () => {
  it('a repeat within the window is a copy of the first; a later one, or any with a window of 0, forces the exit', () => {
    const clock = new ManualClock()
    const signals = new ForwardedSignals(clock, 500)
    assert.equal(signals.first, undefined)
    assert.deepEqual(signals.receive('SIGINT'), { verdict: 'close', afterMs: 0 })
    assert.equal(signals.first, 'SIGINT')
    clock.advance(499)
    assert.deepEqual(signals.receive('SIGTERM'), { verdict: 'duplicate', afterMs: 499 })
    clock.advance(1)
    assert.deepEqual(signals.receive('SIGINT'), { verdict: 'force', afterMs: 500 })
    assert.equal(signals.first, 'SIGINT', 'the first is remembered (its drain budget applies)')
    const noWindow = new ForwardedSignals(clock, 0)
    noWindow.receive('SIGTERM')
    assert.equal(noWindow.receive('SIGTERM').verdict, 'force')
  })

  it('duplicateSignalWindow is checked by name before listening', async () => {
    const { app } = await buildApp()
    for (const value of [-1, Infinity, '500']) {
      await assert.rejects(
        listenGracefully(app, { duplicateSignalWindow: value as number }),
        /listenGracefully\(options\.duplicateSignalWindow\)/,
      )
    }
    assert.equal(app.server.listening, false)
    await app.close()
  })
})
