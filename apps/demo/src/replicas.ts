/**
 * An API replica and two workers on one Redis, from one command at the repository root: `pnpm demo:replicas`.
 *
 * Starts a private redis-server (a free loopback port, a temp dir, no persistence) unless `REDIS_URL`
 * names one, an API replica (`ROLE=api`: takes orders, runs no task) and two worker replicas
 * (`ROLE=worker`: run the tasks, no order routes). It sends orders to the API, kills one worker with
 * SIGKILL while it runs tasks, and shows that every job spawned on the API reached an end on the
 * workers: nothing admitted is lost. Then it stops everything it started.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { bullmqBackend } from '@fastify-tasks/bullmq'
import { startRedis, type RedisServer } from '@fastify-tasks/redis-server'
import { between } from './work.js'

const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url))
const ORDERS = 60
const started: ChildProcess[] = []

function say(line: string): void {
  process.stdout.write(`${line}\n`)
}

/** A demo replica; resolves with its address once it listens. */
async function startReplica(name: string, role: string, redisUrl: string): Promise<{ child: ChildProcess; address: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    env: { ...process.env, REDIS_URL: redisUrl, ROLE: role, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  started.push(child)
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 30 s`)), 30_000)
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)))
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /"address":"([^"]+)"/.exec(line)
      if (match !== null && line.includes('demo ready')) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    })
  })
  say(`${name.padEnd(9)} ROLE=${role.padEnd(6)} ${address}  (curl '${address}/debug/tasks?format=text')`)
  return { child, address }
}

interface Summary {
  readonly summary: { readonly spawned: number; readonly outcomes: Record<string, number>; readonly backend: { enqueued: number } }
}

async function summaryOf(address: string): Promise<Summary['summary']> {
  return ((await (await fetch(`${address}/debug/tasks`)).json()) as Summary).summary
}

async function main(): Promise<void> {
  let redis: RedisServer | undefined
  try {
    const redisUrl = process.env['REDIS_URL'] ?? (redis = await startRedis()).url
    say(`redis     ${redisUrl}`)
    const api = await startReplica('api', 'api', redisUrl)
    const worker1 = await startReplica('worker-1', 'worker', redisUrl)
    const worker2 = await startReplica('worker-2', 'worker', redisUrl)

    for (let i = 0; i < ORDERS; i++) {
      const response = await fetch(`${api.address}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: `customer${i}@example.test`, items: i % 4 === 0 ? between(20, 40) : between(1, 5) }),
      })
      if (response.status !== 202) throw new Error(`POST /orders answered ${response.status}: ${await response.text()}`)
    }
    const enqueued = (await summaryOf(api.address)).backend.enqueued
    say(
      `\n${ORDERS} orders to the API: it spawned ${enqueued} tasks into Redis and ran none itself (spawned ${(await summaryOf(api.address)).spawned}).`,
    )

    await sleep(300)
    const before = await summaryOf(worker1.address)
    worker1.child.kill('SIGKILL')
    say(`worker-1 killed with SIGKILL after it had started ${before.spawned} tasks (${before.outcomes['completed']} completed).`)

    // What worker-1 held is found stalled once its lock expires (5 s in the demo), and runs on worker-2.
    const backend = bullmqBackend({ connection: redisUrl, role: 'producer', onError: () => {} })
    try {
      for (let waited = 0; ; waited += 500) {
        const counts = await backend.jobCounts()
        // The API's catalog schedule always has its next turn waiting in Redis: not an open order.
        const { total: schedules } = await backend.schedules(1)
        const open = counts.waiting + counts.prioritized + counts.delayed + counts.active - schedules
        if (open === 0) {
          say(`Redis: ${counts.completed} completed, ${counts.failed} failed (timed out or out of retries), none waiting or active.`)
          break
        }
        if (waited > 60_000) throw new Error(`jobs still open after 60 s: ${JSON.stringify(counts)}`)
        await sleep(500)
      }
    } finally {
      await backend.close(1_000)
    }
    const after = await summaryOf(worker2.address)
    say(`worker-2 ran ${after.spawned} tasks: ${JSON.stringify(after.outcomes)}.`)
    say(`Every task spawned on the API ended: nothing lost to the SIGKILL (the few worker-1 had started ran again: at least once).`)
  } finally {
    for (const child of started.reverse()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await sleep(500)
    for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await redis?.close()
  }
}

await main()
