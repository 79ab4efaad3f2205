/**
 * `@fastify-tasks/core/validation`: the checks behind every option and argument of the suite.
 *
 * Each check takes the name of the option as the user wrote it (`concurrency`,
 * `spawn(options.timeout)`, `metrics.maxTaskNames`), the value, and what is allowed; it returns the
 * value, typed, or throws an `InvalidOptionError` whose message names the option, says what was
 * expected and what arrived: `Invalid concurrency: expected an integer >= 1, received 0 (number)`.
 *
 * Exported for the suite's own packages (the Fastify plugin validates its options with them) and for
 * plugin authors who want the same errors. Covered by semver: the functions, their parameters and
 * the error they throw (its `option`, and `expected` in this dialect); the wording of `expected` may
 * still get clearer in a minor release.
 *
 * On a hot path, pass bounds as a constant rather than an object literal per call (`{ min: 1 }` is
 * an allocation each time).
 * @packageDocumentation
 */
import { closestKey } from './closest-key.js'
import { InvalidOptionError } from './errors.js'

/**
 * Where a number may lie: at least `min` or greater than `above` (give one), and at most `max`.
 * Numbers are finite unless a check says otherwise.
 */
export interface NumberBounds {
  /** Smallest value allowed. */
  readonly min?: number | undefined
  /** Values must be greater than this (an exclusive `min`). */
  readonly above?: number | undefined
  /** Largest value allowed. @default none (any finite number) */
  readonly max?: number | undefined
  /** What the number counts, named first in the message: `seconds` gives "seconds as a finite number >= 0". */
  readonly unit?: string | undefined
}

/** Where an integer may lie: from `min` to `max` (at most `Number.MAX_SAFE_INTEGER`). */
export interface IntegerBounds {
  readonly min: number
  /** @default Number.MAX_SAFE_INTEGER */
  readonly max?: number | undefined
  /** What the integer counts, named first in the message: `milliseconds` gives "milliseconds as an integer from 1 to 1000". */
  readonly unit?: string | undefined
}

/** Where a duration in milliseconds may lie, and whether `Infinity` (none, never) is allowed. */
export interface DurationBounds {
  /** @default 0 */
  readonly min?: number | undefined
  /** Values must be greater than this (an exclusive `min`). */
  readonly above?: number | undefined
  /** @default none (any finite number, or `Infinity` where allowed) */
  readonly max?: number | undefined
  /** Accept `Infinity` too. @default false */
  readonly infinity?: boolean | undefined
}

/** What a string must be: at least `minLength` characters; a `secret` is never echoed in the error. */
export interface StringRules {
  /** @default 0 */
  readonly minLength?: number | undefined
  /** The error shows only the length of a wrong string (a token must not reach the logs). @default false */
  readonly secret?: boolean | undefined
}

/** What an array must hold: at least `minLength` items, each passing `every`, described by `of`. */
export interface ArrayRules {
  /** The items, as the message names them: `non-empty strings` gives "an array of non-empty strings". */
  readonly of: string
  /** @default 0 */
  readonly minLength?: number | undefined
  /** Whether one item (and its place, against its neighbours) is right. @default every item is */
  readonly every?: ((item: unknown, index: number, array: readonly unknown[]) => boolean) | undefined
}

/** Throws unless `value` is an integer within `bounds`. */
export function checkInteger(name: string, value: unknown, bounds: IntegerBounds): number {
  const { min, max = Number.MAX_SAFE_INTEGER } = bounds
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value
  const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`
  throw new InvalidOptionError(name, `${unitPrefix(bounds.unit)}an integer ${range}`, value)
}

/** Throws unless `value` is a finite number within `bounds`. */
export function checkNumber(name: string, value: unknown, bounds: NumberBounds = {}): number {
  if (isWithin(value, bounds.min, bounds.above, bounds.max, false)) return value
  throw new InvalidOptionError(name, `${unitPrefix(bounds.unit)}${numberRange(bounds.min, bounds.above, bounds.max, false)}`, value)
}

/** Throws unless `value` is milliseconds: a finite number >= 0 (or within `bounds`), or `Infinity` where allowed. */
export function checkDuration(name: string, value: unknown, bounds: DurationBounds = {}): number {
  const min = bounds.above === undefined ? (bounds.min ?? 0) : undefined
  const infinity = bounds.infinity === true
  if (isWithin(value, min, bounds.above, bounds.max, infinity)) return value
  throw new InvalidOptionError(name, `milliseconds as ${numberRange(min, bounds.above, bounds.max, infinity)}`, value)
}

/** Throws unless `value` is one of `words`. */
export function checkOneOf<const T extends string>(name: string, value: unknown, words: readonly T[]): T {
  if (typeof value === 'string' && (words as readonly string[]).includes(value)) return value as T
  throw new InvalidOptionError(name, `one of ${words.map((w) => `'${w}'`).join(', ')}`, value)
}

/** Throws unless `value` is `true` or `false`. */
export function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value
  throw new InvalidOptionError(name, 'a boolean', value)
}

/**
 * Throws unless `value` is a function. `signature` (`(request) => boolean`) is shown in the message
 * after "a function"; the return type `F` is the caller's word for it.
 */
export function checkFunction<F extends (...args: never[]) => unknown>(name: string, value: unknown, signature?: string): F {
  if (typeof value === 'function') return value as F
  throw new InvalidOptionError(name, signature === undefined ? 'a function' : `a function ${signature}`, value)
}

/** Throws unless `value` is a string of at least `rules.minLength` characters. */
export function checkString(name: string, value: unknown, rules: StringRules = {}): string {
  const { minLength = 0 } = rules
  if (typeof value === 'string' && value.length >= minLength) return value
  const expected = minLength === 0 ? 'a string' : minLength === 1 ? 'a non-empty string' : `a string of at least ${minLength} characters`
  throw new InvalidOptionError(name, expected, rules.secret === true && typeof value === 'string' ? hidden(value) : value)
}

/** Throws unless `value` is an object of options: not `null`, not an array. */
export function checkObject(name: string, value: unknown): Record<string, unknown> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>
  throw new InvalidOptionError(name, 'an object', value)
}

/** Throws unless `value` is an object of options or `false` (for a feature that can be turned off). */
export function checkObjectOrFalse(name: string, value: unknown): Record<string, unknown> | false {
  if (value === false || (typeof value === 'object' && value !== null && !Array.isArray(value)))
    return value as Record<string, unknown> | false
  throw new InvalidOptionError(name, 'an object, or false', value)
}

/** Throws unless `value` is an array of at least `rules.minLength` items, each passing `rules.every`. */
export function checkArray(name: string, value: unknown, rules: ArrayRules): unknown[] {
  const { minLength = 0, every } = rules
  if (Array.isArray(value) && value.length >= minLength && (every === undefined || value.every((item, i) => every(item, i, value)))) {
    return value
  }
  const array = minLength === 0 ? 'an array' : minLength === 1 ? 'a non-empty array' : `an array of at least ${minLength}`
  throw new InvalidOptionError(name, `${array} of ${rules.of}`, value)
}

/**
 * Throws, naming `name.key`, if `value` has a key not in `known` (a typo would otherwise be
 * ignored). The error lists the known keys and, when one is close, suggests it (`concurency` → did
 * you mean concurrency?). A string under a key that looks like a secret (`tokn`) is not echoed.
 * Pass a `Set` where it runs often.
 */
export function checkKnownKeys(name: string, value: object, known: ReadonlySet<string> | readonly string[]): void {
  // Object.keys, not for…in: it hits V8's enum cache (for…in was the slowest line of spawn).
  const keys = Object.keys(value)
  if (isList(known)) {
    for (let i = 0; i < keys.length; i++) if (!known.includes(keys[i]!)) throw unknownKeyError(name, keys[i]!, value, known)
  } else {
    for (let i = 0; i < keys.length; i++) if (!known.has(keys[i]!)) throw unknownKeyError(name, keys[i]!, value, [...known])
  }
}

/** A task id as JSON Schema and `RegExp` source: the decimal digits of its sequence number, at most 15. */
export const TASK_ID_PATTERN = '^[0-9]{1,15}$'

const TASK_ID = new RegExp(TASK_ID_PATTERN)

/** Whether `value` has the shape of a task id (or of a list cursor, which is one): see {@link TASK_ID_PATTERN}. */
export function isTaskId(value: unknown): value is string {
  return typeof value === 'string' && TASK_ID.test(value)
}

/**
 * The id of any live task as JSON Schema and `RegExp` source: a task id ({@link TASK_ID_PATTERN}),
 * or the id of a task a durable backend handed over: the UUID its spawner made (lower case), or
 * for a turn of a durable schedule `repeat:<schedule id>:<time in ms>`.
 */
export const ANY_TASK_ID_PATTERN =
  '^(?:[0-9]{1,15}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|repeat:[A-Za-z0-9._-]{1,128}:[0-9]{1,15})$'

const ANY_TASK_ID = new RegExp(ANY_TASK_ID_PATTERN)

/** Whether `value` has the shape of the id of a live task: see {@link ANY_TASK_ID_PATTERN}. */
export function isAnyTaskId(value: unknown): value is string {
  return typeof value === 'string' && ANY_TASK_ID.test(value)
}

// --- messages ------------------------------------------------------------------------------------

/** Option names whose string values are not echoed in errors. */
const SECRET = /token|secret|password|passwd|credential|api[-_]?key/i

function unknownKeyError(name: string, key: string, options: object, known: readonly string[]): InvalidOptionError {
  const value = (options as Record<string, unknown>)[key]
  const suggestion = closestKey(key, known)
  const expected =
    suggestion === undefined
      ? `one of the known options (${known.join(', ')})`
      : `one of the known options (did you mean ${suggestion}?): ${known.join(', ')}`
  // A misspelled secret (`tokn: '…'`) must not end up in an error message, and so in logs.
  const secret = typeof value === 'string' && SECRET.test(`${key} ${suggestion ?? ''}`)
  return new InvalidOptionError(`${name}.${key}`, expected, secret ? hidden(value) : value)
}

/** What an error shows of a secret: its length only. */
function hidden(value: string): string {
  return `(hidden: ${value.length} character${value.length === 1 ? '' : 's'})`
}

function isList(known: ReadonlySet<string> | readonly string[]): known is readonly string[] {
  return Array.isArray(known)
}

function isWithin(
  value: unknown,
  min: number | undefined,
  above: number | undefined,
  max: number | undefined,
  infinity: boolean,
): value is number {
  return (
    typeof value === 'number' &&
    (Number.isFinite(value) || (infinity && value === Infinity)) &&
    (above === undefined ? min === undefined || value >= min : value > above) &&
    (max === undefined || value <= max)
  )
}

/** "a finite number >= 0", "a number from 1 to 10", "a number > 0, or Infinity". */
function numberRange(min: number | undefined, above: number | undefined, max: number | undefined, infinity: boolean): string {
  const lower = above !== undefined ? `> ${above}` : min !== undefined ? `>= ${min}` : undefined
  if (max === undefined)
    return `${infinity ? 'a number' : 'a finite number'}${lower === undefined ? '' : ` ${lower}`}${infinity ? ', or Infinity' : ''}`
  const range =
    above === undefined && min !== undefined ? `from ${min} to ${max}` : lower === undefined ? `<= ${max}` : `${lower} and <= ${max}`
  return `a number ${range}`
}

function unitPrefix(unit: string | undefined): string {
  return unit === undefined ? '' : `${unit} as `
}
