import { InvalidOptionError } from '../errors.js'
import { checkFunction, checkInteger, checkKnownKeys, checkNumber, checkObject } from '../validation.js'
import type { AdaptiveLimitOptions, ResolvedAdaptiveOptions } from './adaptive-limit.js'

/**
 * How many tasks of one name may hold a slot at once, within the scheduler's `concurrency` (the
 * global ceiling). Each task name is usually one dependency (a mail API, a database): its limit is
 * found from its tasks' own run time unless you fix it.
 */
export interface LimitsOptions {
  /**
   * `'adaptive'`: each name's limit starts at `adaptive.initial` (the ceiling) and moves with its tasks' run time
   * (see the scheduling guide). A number: that fixed limit for every name. `false`: no limit per
   * name, only `concurrency` (the behaviour of earlier releases).
   * @default 'adaptive'
   */
  perName?: 'adaptive' | number | false
  /** Fixed limits for some names, whatever `perName` says: `{ 'send-mail': 10 }`. */
  fixed?: Readonly<Record<string, number>>
  /**
   * Rate limits for some names: at most `max` starts per `duration` ms (a fixed window from the
   * first start in it, as BullMQ's limiter), whatever their concurrency: `{ 'send-sms': { max: 10,
   * duration: 1_000 } }`. Tasks past it wait in the queue, holding nothing, until the window ends.
   */
  rate?: Readonly<Record<string, RateLimit>>
  /**
   * The bulkhead: while tasks of other names wait for a slot, one name holds at most this share of
   * `concurrency` (at least one slot). `1` turns it off.
   * @default 0.5
   */
  maxShare?: number
  /** Tuning of adaptive limits. */
  adaptive?: AdaptiveLimitOptions
  /**
   * Asked at the end of each adaptive window: a reason (`'event loop'`) while the process is under
   * pressure (adaptive limits then never grow), `undefined` while it is not. The Fastify
   * plugin passes its event-loop monitor's verdict.
   */
  pressure?: () => string | undefined
}

/** At most `max` starts per `duration` milliseconds. */
export interface RateLimit {
  readonly max: number
  readonly duration: number
}

/** The limits after defaults and validation. */
export interface ResolvedLimitsOptions {
  readonly perName: 'adaptive' | number | false
  readonly fixed: ReadonlyMap<string, number>
  readonly rate: ReadonlyMap<string, RateLimit>
  readonly maxShare: number
  readonly adaptive: ResolvedAdaptiveOptions
  readonly pressure: (() => string | undefined) | undefined
}

export const LIMITS_DEFAULTS = Object.freeze({
  perName: 'adaptive',
  maxShare: 0.5,
  adaptive: Object.freeze({ min: 1, tolerance: 1.5 }),
} as const)

const LIMITS_KEYS = ['perName', 'fixed', 'rate', 'maxShare', 'adaptive', 'pressure'] as const
const RATE_KEYS = ['max', 'duration'] as const
const RATE_DURATION = { min: 1, max: 2_147_483_647, unit: 'milliseconds' } as const
const ADAPTIVE_KEYS = ['initial', 'min', 'tolerance'] as const
const POSITIVE = { min: 1 } as const

/** Validates `limits` and fills in defaults. */
export function resolveLimitsOptions(value: unknown): ResolvedLimitsOptions {
  const o = value === undefined ? {} : checkObject('limits', value)
  checkKnownKeys('limits', o, LIMITS_KEYS)
  const perName = o['perName'] ?? LIMITS_DEFAULTS.perName
  if (perName !== 'adaptive' && perName !== false && !(typeof perName === 'number' && Number.isInteger(perName) && perName >= 1)) {
    throw new InvalidOptionError('limits.perName', "'adaptive', an integer >= 1 or false", perName)
  }
  const fixed = new Map<string, number>()
  if (o['fixed'] !== undefined) {
    const f = checkObject('limits.fixed', o['fixed'])
    for (const name of Object.keys(f)) fixed.set(name, checkInteger(`limits.fixed.${name}`, f[name], POSITIVE))
  }
  const rate = new Map<string, RateLimit>()
  if (o['rate'] !== undefined) {
    const r = checkObject('limits.rate', o['rate'])
    for (const name of Object.keys(r)) {
      const limit = checkObject(`limits.rate.${name}`, r[name])
      checkKnownKeys(`limits.rate.${name}`, limit, RATE_KEYS)
      rate.set(
        name,
        Object.freeze({
          max: checkInteger(`limits.rate.${name}.max`, limit['max'], POSITIVE),
          duration: checkInteger(`limits.rate.${name}.duration`, limit['duration'], RATE_DURATION),
        }),
      )
    }
  }
  const maxShare = checkNumber('limits.maxShare', o['maxShare'] ?? LIMITS_DEFAULTS.maxShare, { above: 0, max: 1 })
  const a = o['adaptive'] === undefined ? {} : checkObject('limits.adaptive', o['adaptive'])
  checkKnownKeys('limits.adaptive', a, ADAPTIVE_KEYS)
  const d = LIMITS_DEFAULTS.adaptive
  const min = checkInteger('limits.adaptive.min', a['min'] ?? d.min, POSITIVE)
  // Unset: the ceiling (`concurrency`), so nothing waits that the pool could run before anything is known.
  const initial = a['initial'] ?? Infinity
  if (typeof initial !== 'number' || (initial !== Infinity && !Number.isInteger(initial)) || initial < min) {
    throw new InvalidOptionError('limits.adaptive.initial', `an integer >= limits.adaptive.min (${min})`, initial)
  }
  const tolerance = checkNumber('limits.adaptive.tolerance', a['tolerance'] ?? d.tolerance, { above: 1, max: 100 })
  const pressure =
    o['pressure'] === undefined
      ? undefined
      : checkFunction<() => string | undefined>('limits.pressure', o['pressure'], '() => string | undefined')
  return { perName, fixed, rate, maxShare, adaptive: { initial, min, tolerance }, pressure }
}
