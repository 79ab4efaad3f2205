/**
 * A realistic history of settled tasks for the `/metrics` scrape benchmark: for every task name, a
 * few tasks of each outcome, so every name has series in the counters and in both task histograms.
 * Bounded: every task settles within a few tens of milliseconds.
 */
import type { FastifyInstance } from 'fastify'
import type { FastifyTaskContext, Outcome, TaskHandle } from 'fastify-tasks'

/** Deadline of the tasks meant to time out, ms. */
const SHORT_TIMEOUT_MS = 5

/** The outcomes in the mix (not `dropped`, which needs a full queue). */
type MixOutcome = Exclude<Outcome, 'dropped'>

/** Tasks per name and outcome. */
export const MIX_PER_NAME: Readonly<Record<MixOutcome, number>> = {
  completed: 6,
  failed: 2,
  timed_out: 1,
  cancelled: 1,
}

/** How each outcome is produced, per name. Printed with the results. */
export const MIX_SETUP: readonly string[] = [
  `${MIX_PER_NAME.completed} completed, after 0 to 27 ms (so durations spread over a few buckets)`,
  `${MIX_PER_NAME.failed} failed: reject after a setImmediate`,
  `${MIX_PER_NAME.timed_out} timed out: a ${SHORT_TIMEOUT_MS} ms deadline, rejecting when the signal aborts`,
  `${MIX_PER_NAME.cancelled} cancelled right after spawn, rejecting when the signal aborts`,
]

const BASE_NAMES = [
  'send-email',
  'charge-card',
  'resize-image',
  'build-report',
  'sync-inventory',
  'refresh-cache',
  'index-document',
  'notify-webhook',
]

/** `count` distinct, realistic task names: `send-email-0`, `charge-card-0`, … */
export function taskNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${BASE_NAMES[i % BASE_NAMES.length]!}-${Math.floor(i / BASE_NAMES.length)}`)
}

const after = (ms: number): Promise<void> => new Promise<void>((resolve) => setTimeout(resolve, ms))
const nextTurn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve))

const completeAfter = (ms: number) => async (): Promise<number> => {
  await after(ms)
  return 1
}
/** The durations of the completed tasks spread over the first few duration buckets. */
const COMPLETERS = Array.from({ length: 10 }, (_, i) => completeAfter(i * 3))

const fail = async (): Promise<never> => {
  await nextTurn()
  throw new Error('upstream said no')
}

/** Settles only when aborted (its deadline, or a cancel), rejecting with the reason. */
const untilAborted = ({ signal }: FastifyTaskContext): Promise<never> =>
  new Promise<never>((_resolve, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true })
  })

/**
 * Spawns the mix for every name with `app.tasks.spawn`, waits for all of it to settle, and checks
 * every outcome came out as meant.
 */
export async function settleMix(app: FastifyInstance, names: readonly string[]): Promise<void> {
  const handles: TaskHandle[] = []
  for (const [n, name] of names.entries()) {
    for (let i = 0; i < MIX_PER_NAME.completed; i++) handles.push(app.tasks.spawn(name, COMPLETERS[(n + i) % COMPLETERS.length]!))
    for (let i = 0; i < MIX_PER_NAME.failed; i++) handles.push(app.tasks.spawn(name, fail))
    for (let i = 0; i < MIX_PER_NAME.timed_out; i++) handles.push(app.tasks.spawn(name, untilAborted, { timeout: SHORT_TIMEOUT_MS }))
    for (let i = 0; i < MIX_PER_NAME.cancelled; i++) {
      const handle = app.tasks.spawn(name, untilAborted)
      handle.cancel()
      handles.push(handle)
    }
  }
  const settlements = await Promise.all(handles.map((handle) => handle.settled))
  const counts = new Map<Outcome, number>()
  for (const { outcome } of settlements) counts.set(outcome, (counts.get(outcome) ?? 0) + 1)
  for (const [outcome, perName] of Object.entries(MIX_PER_NAME) as [MixOutcome, number][]) {
    if (counts.get(outcome) !== perName * names.length) {
      throw new Error(`expected ${perName * names.length} ${outcome} tasks, got ${JSON.stringify(Object.fromEntries(counts))}`)
    }
  }
}
