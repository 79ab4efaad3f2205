/**
 * The servers compared by the backpressure benchmark, in the order their rows are printed: what
 * fastify-tasks is registered with, and whether the background producer runs.
 */
import type { FastifyTasksOptions } from 'fastify-tasks'

export const BACKPRESSURE_VARIANTS = ['baseline', 'off', 'defer', 'reject', 'loose'] as const

export type BackpressureVariantId = (typeof BACKPRESSURE_VARIANTS)[number]

/** The variant every other one is compared with: no background work. */
export const BACKPRESSURE_BASELINE: BackpressureVariantId = 'baseline'

/** The variant with the producer but no admission control, printed for comparison. */
export const BACKPRESSURE_UNPROTECTED: BackpressureVariantId = 'off'

/** The variants with admission control tuned for the workload, each checked against the target. */
export const BACKPRESSURE_TUNED: readonly BackpressureVariantId[] = ['defer', 'reject']

/** Scheduler slots for the background tasks (the adaptive limit's maximum). */
export const BACKGROUND_CONCURRENCY = 4

/**
 * Admission control tuned for this workload (a ~0.5 ms p99 route next to 5–20 ms slices of
 * background CPU; the README explains each choice):
 *
 * - `resolution: 1`: the monitor's window p99 is a timer interval, so it includes the resolution
 *   (10 ms by default); at 1 ms the thresholds below are close to the real delay;
 * - `maxDelay: 4`, `tick: 5`: a tick more than 4 ms late (one slice that straddles a tick) counts as
 *   a block at once, and a window whose p99 is above 4 ms as overload: any slice is overload;
 * - `window: 250`, and so `holdFor`, and `holdAfterBlock: 250`: overload is held a quarter second
 *   after a block or a bad window. Since every slice trips it, the hold sets the background's duty
 *   cycle: about one slice (~12 ms) per 250 ms, a few % of the loop;
 * - `maxUtilization` stays 1 (off): the request load alone keeps the loop over 90 % busy;
 * - `adaptive: { targetDelay: 3, min: 1 }`: the running limit shrinks from 4 to 1 while windows are
 *   above 3 ms p99, so when the hold ends one slice starts, not four back to back;
 * - `requests: false`, `underPressure: false`: requests are what is protected, so they are never
 *   answered 503 (which the bench counts as a failed run); only background spawns are held back.
 */
const TUNED_EVENT_LOOP = { resolution: 1, maxDelay: 4, tick: 5, window: 250, holdAfterBlock: 250 } as const
const TUNED_ADAPTIVE = { targetDelay: 3, min: 1 } as const
/** Requests are never refused: only background work is. */
const BACKGROUND_ONLY = { requests: false, underPressure: false, admitWhenOverloaded: 'high' } as const

interface BackpressureServerSetup {
  /** fastify-tasks options (printed with the results, as JSON). */
  readonly options: FastifyTasksOptions
  /** Whether the background producer runs. */
  readonly background: boolean
}

export const BACKPRESSURE_SERVERS: Readonly<Record<BackpressureVariantId, BackpressureServerSetup>> = {
  baseline: { options: { concurrency: BACKGROUND_CONCURRENCY }, background: false },
  off: { options: { concurrency: BACKGROUND_CONCURRENCY, backpressure: false }, background: true },
  defer: {
    options: {
      concurrency: BACKGROUND_CONCURRENCY,
      eventLoop: TUNED_EVENT_LOOP,
      backpressure: { ...BACKGROUND_ONLY, onOverload: 'defer', adaptive: TUNED_ADAPTIVE },
    },
    background: true,
  },
  reject: {
    options: {
      concurrency: BACKGROUND_CONCURRENCY,
      eventLoop: TUNED_EVENT_LOOP,
      backpressure: { ...BACKGROUND_ONLY, onOverload: 'reject', adaptive: TUNED_ADAPTIVE },
    },
    background: true,
  },
  // Thresholds above the longest slice, for comparison: once the limit is 1, no slice trips them.
  loose: {
    options: {
      concurrency: BACKGROUND_CONCURRENCY,
      eventLoop: { maxDelay: 30, window: 250 },
      backpressure: { ...BACKGROUND_ONLY, onOverload: 'defer', adaptive: { targetDelay: 20, min: 1 } },
    },
    background: true,
  },
}

export const BACKPRESSURE_VARIANT_LABELS: Readonly<Record<BackpressureVariantId, string>> = {
  baseline: '(a) no background work',
  off: '(b) admission control off',
  defer: '(c1) on, tuned, defer',
  reject: '(c2) on, tuned, reject',
  loose: '(c3) on, maxDelay 30, defer',
}

/** What each server does besides serving GET /light. Printed with the results. */
export const BACKPRESSURE_VARIANT_SETUPS: Readonly<Record<BackpressureVariantId, string>> = {
  baseline: 'fastify-tasks registered; no producer',
  off: 'the producer runs; backpressure: false (no admission control, concurrency fixed at 4)',
  defer: 'the producer runs; while overloaded, low spawns are queued and the queue is held (start gate)',
  reject: 'the producer runs; while overloaded, low spawns throw OverloadedError (counted as shed)',
  loose: 'as (c1) with the default resolution (10 ms) and thresholds above the longest slice',
}

export function isBackpressureVariant(value: unknown): value is BackpressureVariantId {
  return typeof value === 'string' && (BACKPRESSURE_VARIANTS as readonly string[]).includes(value)
}
