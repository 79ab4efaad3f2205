import { InvalidOptionError } from '../errors.js'
import { checkBoolean, checkInteger, checkKnownKeys, checkObject } from '../validation.js'
import { CronPattern } from './cron-pattern.js'
import type { Cadence } from './repeat-schedule.js'

const REPEAT_KEYS = ['every', 'cron', 'tz', 'immediately'] as const
const CRON_OPTIONS = { cron: 'repeat(options.cron)', tz: 'repeat(options.tz)' } as const
const REPEAT_EVERY = { min: 1, max: 2_147_483_647, unit: 'milliseconds' } as const

/** What a schedule id may be: it is part of the broker's job ids and keys on a durable backend. */
export const SCHEDULE_ID_PATTERN = '^[A-Za-z0-9._-]{1,128}$'
const SCHEDULE_ID = new RegExp(SCHEDULE_ID_PATTERN)

/** `repeat(id)` and `unschedule(id)`: 1 to 128 letters, digits, `.`, `_` or `-`. */
export function checkScheduleId(option: string, id: unknown): string {
  if (typeof id !== 'string' || !SCHEDULE_ID.test(id)) {
    throw new InvalidOptionError(option, '1 to 128 letters, digits, ".", "_" or "-" (e.g. "nightly-report")', id)
  }
  return id
}

/** `repeat(options)`: exactly one of `every` and `cron` (with its `tz`), and `immediately`. */
export function checkRepeatOptions(options: unknown): { cadence: Cadence; immediately: boolean } {
  const o = checkObject('repeat(options)', options)
  checkKnownKeys('repeat(options)', o, REPEAT_KEYS)
  const immediately = o['immediately'] === undefined ? false : checkBoolean('repeat(options.immediately)', o['immediately'])
  if (o['cron'] !== undefined) {
    if (o['every'] !== undefined) throw new InvalidOptionError('repeat(options)', 'one of `every` and `cron`, not both', options)
    return { cadence: { cron: new CronPattern(o['cron'], o['tz'], CRON_OPTIONS) }, immediately }
  }
  if (o['tz'] !== undefined)
    throw new InvalidOptionError('repeat(options.tz)', 'a time zone only with `cron` (an interval has none)', o['tz'])
  if (o['every'] === undefined)
    throw new InvalidOptionError('repeat(options)', 'an object with `every` (ms) or `cron` (a pattern)', options)
  return { cadence: { every: checkInteger('repeat(options.every)', o['every'], REPEAT_EVERY) }, immediately }
}
