import { createRequire } from 'node:module'
import { InvalidOptionError } from '../errors.js'

/** The part of `cron-parser` used here. */
interface CronParser {
  CronExpressionParser: {
    parse(pattern: string, options: { currentDate: number; tz?: string }): { next(): { getTime(): number } }
  }
}

let parser: CronParser | undefined

/**
 * `cron-parser`, loaded on the first cron schedule: an app without one does not load it. It is the
 * parser BullMQ's job schedulers use, so a pattern fires at the same times on every backend.
 */
function cronParser(): CronParser {
  parser ??= createRequire(import.meta.url)('cron-parser') as CronParser
  return parser
}

/** What `repeat(options.cron)` expects, for error messages. */
const EXPECTED_CRON =
  'a cron pattern of 5 or 6 fields ([second] minute hour day-of-month month day-of-week, e.g. "0 3 * * *"), or a macro such as "@daily"'

/**
 * A checked cron pattern in a time zone: when it next fires after a given wall-clock time.
 * `options` name the two in errors (`repeat(options.cron)`, `repeat(options.tz)`).
 */
export class CronPattern {
  readonly pattern: string
  /** An IANA time zone, or `null` for the process's own. */
  readonly tz: string | null

  constructor(pattern: unknown, tz: unknown, options: { readonly cron: string; readonly tz: string }) {
    if (typeof pattern !== 'string' || pattern.length > 256) throw new InvalidOptionError(options.cron, EXPECTED_CRON, pattern)
    const trimmed = pattern.trim()
    // cron-parser fills in missing fields ('*' runs every minute, '*/2 * * *' every other hour): fewer
    // than 5 is refused rather than read as something else.
    const fields = trimmed.split(/\s+/).length
    if (trimmed === '' || (!trimmed.startsWith('@') && (fields < 5 || fields > 6))) {
      throw new InvalidOptionError(
        options.cron,
        `${EXPECTED_CRON}; got ${trimmed === '' ? 'none' : `${fields} field${fields === 1 ? '' : 's'}`}`,
        pattern,
      )
    }
    if (tz !== undefined) {
      if (typeof tz !== 'string' || tz === '') throw new InvalidOptionError(options.tz, 'an IANA time zone name such as "Europe/Paris"', tz)
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz })
      } catch {
        throw new InvalidOptionError(options.tz, 'an IANA time zone name such as "Europe/Paris"', tz)
      }
    }
    this.pattern = trimmed
    this.tz = tz ?? null
    // Checked now, once: a bad pattern is the caller's error, not a schedule that never fires.
    try {
      this.next(0)
    } catch (error) {
      throw new InvalidOptionError(options.cron, `${EXPECTED_CRON} (${(error as Error).message})`, pattern)
    }
  }

  /** The first time the pattern fires strictly after `after` (wall-clock ms since the epoch). */
  next(after: number): number {
    const expression = cronParser().CronExpressionParser.parse(this.pattern, {
      currentDate: after,
      ...(this.tz === null ? {} : { tz: this.tz }),
    })
    return expression.next().getTime()
  }
}
