import type { CancelReason, Settlement } from '@fastify-tasks/core'

/**
 * A job BullMQ records as failed may have been given up on by the scheduler: its deadline passed, or
 * it was cancelled. BullMQ knows only "failed" (and its reason text), so the reason starts with a
 * marker that a process following the job (`watch`) reads back into the same outcome.
 */
const MARKER = /^\[fastify-tasks:(timed_out|cancelled:(caller|operator|superseded|shutdown))\] /

export function givenUpReason(outcome: 'timed_out' | `cancelled:${CancelReason}`, message: string): string {
  return `[fastify-tasks:${outcome}] ${message}`
}

/** The settlement a finished job stands for. */
export function settlementOf(finished: { completed: true; value: unknown } | { completed: false; failedReason: string }): Settlement {
  if (finished.completed) return { outcome: 'completed', value: finished.value }
  const reason = finished.failedReason
  const marked = MARKER.exec(reason)
  const error = new Error(marked === null ? reason : reason.slice(marked[0].length))
  if (marked === null) return { outcome: 'failed', error }
  if (marked[1] === 'timed_out') return { outcome: 'timed_out', error }
  return { outcome: 'cancelled', reason: marked[2] as CancelReason, error }
}
