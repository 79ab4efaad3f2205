/**
 * Sends a bounded burst of mixed traffic to the demo (loopback only) so /debug/tasks and /metrics
 * have something to show. Usage: `pnpm --filter @fastify-tasks/demo traffic [baseUrl] [seconds]`.
 */
import { pathToFileURL } from 'node:url'
import { between } from './work.js'

/** What a burst did. */
export interface TrafficSummary {
  readonly sent: number
  readonly byStatus: Record<string, number>
}

/** Sends traffic to `baseUrl` for `seconds` (at most 6 requests in flight, at most 10 000 in all). */
export async function sendTraffic(baseUrl: string, seconds: number): Promise<TrafficSummary> {
  const url = new URL(baseUrl)
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))
    throw new Error(`the demo traffic only targets this machine, not ${url.hostname}`)
  const until = Date.now() + seconds * 1_000
  const byStatus: Record<string, number> = {}
  let sent = 0
  const one = async (): Promise<void> => {
    const roll = Math.random()
    const response =
      roll < 0.03
        ? await fetch(new URL('/leaky/partner-sync', url), { method: 'POST' })
        : roll < 0.15
          ? await fetch(new URL('/health', url))
          : await fetch(new URL('/orders', url), {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({
                email: `customer${between(1, 500)}@example.test`,
                items: Math.random() < 0.1 ? between(20, 60) : between(1, 5),
              }),
            })
    await response.arrayBuffer()
    byStatus[response.status] = (byStatus[response.status] ?? 0) + 1
  }
  const worker = async (): Promise<void> => {
    while (Date.now() < until && sent < 10_000) {
      sent++
      await one()
      await new Promise((resolve) => setTimeout(resolve, between(40, 160)))
    }
  }
  await Promise.all(Array.from({ length: 6 }, worker))
  return { sent, byStatus }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const base = process.argv[2] ?? 'http://127.0.0.1:3000'
  const seconds = Number(process.argv[3] ?? 15)
  const summary = await sendTraffic(base, seconds)
  process.stdout.write(`sent ${summary.sent} requests in ${seconds} s: ${JSON.stringify(summary.byStatus)}\n`)
  process.stdout.write(
    `now look:\n  curl '${base}/debug/tasks?format=text'\n  curl '${base}/debug/tasks?view=history&format=text'\n  curl ${base}/metrics\n`,
  )
}
