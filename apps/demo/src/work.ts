/**
 * Stand-ins for the slow, flaky things real background work talks to: a mail relay, an analytics
 * partner, a cache, a report generator. Each honours an AbortSignal, as real clients should.
 */
import { setTimeout as sleep } from 'node:timers/promises'

/** A random whole number in [min, max]. */
export const between = (min: number, max: number): number => min + Math.floor(Math.random() * (max - min + 1))

/** Sends a mail: usually 50–300 ms, sometimes (1 in 10) a relay that takes 4 s. */
export async function sendMail(to: string, signal: AbortSignal): Promise<string> {
  await sleep(Math.random() < 0.1 ? 4_000 : between(50, 300), undefined, { signal })
  return `mail to ${to} sent`
}

/** Posts an analytics event: 20–100 ms, and the partner answers 502 one time in five. */
export async function postAnalytics(event: string, signal: AbortSignal): Promise<void> {
  await sleep(between(20, 100), undefined, { signal })
  if (Math.random() < 0.2) throw new Error(`analytics partner answered 502 for ${event}`)
}

/** Refreshes a cache: 500 ms of I/O. */
export async function refreshCache(signal: AbortSignal): Promise<void> {
  await sleep(500, undefined, { signal })
}

/**
 * Builds a report: CPU-heavy, done in slices of ~10 ms so the event loop keeps breathing, reporting
 * progress after each slice and stopping when aborted.
 */
export async function buildReport(slices: number, signal: AbortSignal, progress: () => void): Promise<number> {
  let checksum = 0
  for (let slice = 0; slice < slices; slice++) {
    signal.throwIfAborted()
    const end = performance.now() + 10
    while (performance.now() < end) checksum = (checksum * 31 + slice) % 1_000_003
    progress()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return checksum
}

/** The classic leak: a partner call whose promise never settles and that ignores cancellation. */
export function callHungPartner(): Promise<never> {
  return new Promise<never>(() => {})
}
