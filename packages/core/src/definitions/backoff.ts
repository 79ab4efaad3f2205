import { InvalidOptionError } from '../errors.js'
import { checkDuration, checkKnownKeys, checkObject, checkOneOf } from '../validation.js'

/**
 * How long a named task waits before its next attempt, after a failed one (BullMQ's two built-in
 * strategies, with the same meaning). `exponential`: `delay × 2^(attempt − 1)` (1 s, 2 s, 4 s… by
 * default); `fixed`: `delay` every time. Never more than `maxDelay`.
 */
export interface BackoffOptions {
  /** @default 'exponential' */
  readonly type?: 'exponential' | 'fixed'
  /** Milliseconds before the second attempt. @default 1_000 */
  readonly delay?: number
  /** The longest wait between two attempts. @default 300_000 (5 minutes) */
  readonly maxDelay?: number
}

/** A backoff after defaults and validation. */
export interface Backoff {
  readonly type: 'exponential' | 'fixed'
  readonly delay: number
  readonly maxDelay: number
}

export const DEFAULT_BACKOFF: Backoff = Object.freeze({ type: 'exponential', delay: 1_000, maxDelay: 300_000 })

const TYPES = ['exponential', 'fixed'] as const
/** Node's longest timer (2^31 - 1 ms, about 24.8 days). */
const DELAY_BOUNDS = { max: 2_147_483_647 } as const
const KEYS = ['type', 'delay', 'maxDelay'] as const

/** Validates `value` (named `option` in errors) and fills in the defaults. */
export function resolveBackoff(option: string, value: unknown): Backoff {
  if (value === undefined) return DEFAULT_BACKOFF
  const o = checkObject(option, value)
  checkKnownKeys(option, o, KEYS)
  const type = o['type'] === undefined ? DEFAULT_BACKOFF.type : checkOneOf(`${option}.type`, o['type'], TYPES)
  const delay = o['delay'] === undefined ? DEFAULT_BACKOFF.delay : checkDuration(`${option}.delay`, o['delay'], DELAY_BOUNDS)
  const maxDelay =
    o['maxDelay'] === undefined
      ? Math.max(delay, DEFAULT_BACKOFF.maxDelay)
      : checkDuration(`${option}.maxDelay`, o['maxDelay'], DELAY_BOUNDS)
  if (maxDelay < delay) throw new InvalidOptionError(`${option}.maxDelay`, `at least delay (${delay})`, maxDelay)
  return Object.freeze({ type, delay, maxDelay })
}

/** The wait before the attempt after `failed` (the 1-based attempt that just failed). */
export function retryDelay(backoff: Backoff, failed: number): number {
  const ms = backoff.type === 'fixed' ? backoff.delay : backoff.delay * 2 ** (failed - 1)
  return Math.min(ms, backoff.maxDelay)
}
