/**
 * A private redis-server: on a free loopback port, in a temp dir, no persistence; stopped by whoever
 * started it. Never a Redis that was already running.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface RedisServer {
  readonly port: number
  readonly url: string
  /** Stops the server (it can be started again on the same port, empty). */
  stop(): Promise<void>
  /** Starts it again after `stop`, on the same port. */
  start(): Promise<void>
  /** Stops it for good and removes its directory. */
  close(): Promise<void>
}

/** A free loopback port; with `bus`, one whose cluster bus port (+10 000) is free too. */
async function freePort(bus = false): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await anyFreePort()
    if (!bus) return port
    if (port + 10_000 <= 65_535 && (await isFree(port + 10_000))) return port
    if (attempt === 50) throw new Error('no free loopback port with a free cluster bus port (+10 000) found')
  }
}

async function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

async function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** Starts redis-server; resolves once it accepts connections (at most 10 s). */
export async function startRedis(): Promise<RedisServer> {
  return startServer([], false)
}

/** A private Redis Cluster of three masters (no replicas), each a {@link RedisServer}. */
export interface RedisCluster {
  readonly nodes: readonly { readonly host: string; readonly port: number }[]
  /** Stops every node for good and removes their directories. */
  close(): Promise<void>
}

/**
 * Starts three redis-server nodes in cluster mode on free loopback ports (their bus ports, +10 000,
 * free too), joins them with `redis-cli --cluster create` (the slots split in three), and resolves
 * once every node says the cluster is `ok` (at most 20 s).
 */
export async function startRedisCluster(): Promise<RedisCluster> {
  const servers: RedisServer[] = []
  try {
    for (let i = 0; i < 3; i++) servers.push(await startServer(['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000'], true))
    const addresses = servers.map((s) => `127.0.0.1:${s.port}`)
    await cli(['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'])
    const deadline = Date.now() + 20_000
    for (const server of servers) {
      for (;;) {
        const info = await cli(['-p', String(server.port), 'cluster', 'info'])
        if (/cluster_state:ok/.test(info)) break
        if (Date.now() > deadline) throw new Error(`the Redis Cluster did not come up within 20 s:\n${info}`)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
  } catch (error) {
    await Promise.all(servers.map((s) => s.close()))
    throw error
  }
  return {
    nodes: servers.map((s) => ({ host: '127.0.0.1', port: s.port })),
    async close() {
      await Promise.all(servers.map((s) => s.close()))
    },
  }
}

/** Runs redis-cli against loopback; resolves with its output (at most 20 s). */
async function cli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', ['-h', '127.0.0.1', ...args], { timeout: 20_000 }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`redis-cli ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`))
      else resolve(stdout)
    })
  })
}

async function startServer(extra: readonly string[], bus: boolean): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'fastify-tasks-redis-'))
  let port = 0
  let child: ChildProcess | undefined
  const launch = async (): Promise<void> => {
    const proc = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--protected-mode',
        'yes',
        ...extra,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    child = proc
    await new Promise<void>((resolve, reject) => {
      let output = ''
      const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s:\n${output}`)), 10_000)
      const onData = (chunk: Buffer): void => {
        output += chunk.toString()
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer)
          resolve()
        }
      }
      proc.stdout.on('data', onData)
      proc.stderr.on('data', onData)
      proc.once('error', (error) => {
        clearTimeout(timer)
        reject(new Error(`redis-server could not be started (is it installed? .ci/install-test-deps installs it): ${error.message}`))
      })
      proc.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`redis-server exited with ${code}:\n${output}`))
      })
    })
  }
  for (let attempt = 1; ; attempt++) {
    port = await freePort(bus)
    try {
      await launch()
      break
    } catch (error) {
      // Another process may have taken the port between the check and the start: try another.
      if (attempt === 3) throw error
    }
  }
  const stop = async (): Promise<void> => {
    const proc = child
    child = undefined
    if (proc === undefined || proc.exitCode !== null) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000)
      proc.once('exit', () => {
        clearTimeout(timer)
        resolve()
      })
      proc.kill('SIGTERM')
    })
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start: launch,
    stop,
    async close() {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
