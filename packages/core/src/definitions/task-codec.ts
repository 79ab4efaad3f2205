import { InvalidPayloadError, InvalidResultError, PayloadTooLargeError } from '../errors.js'
import type { TaskContext } from '../task.js'
import type { AnyTaskDefinition } from './define-task.js'
import { encodeJson, type JsonEncoding } from './json-value.js'
import type { PayloadMismatch, PayloadValidator } from './schema-compiler.js'

/** The encoded form of an absent (`undefined`) payload: JSON itself has no text for it. */
const NO_PAYLOAD = ''

/**
 * A definition's payload and result, to and from the JSON that crosses to whatever runs the task
 * (the in-memory backend too, so a task behaves the same on every backend).
 */
export class TaskCodec {
  readonly #definition: AnyTaskDefinition
  readonly #validate: PayloadValidator | undefined

  constructor(definition: AnyTaskDefinition, validate: PayloadValidator | undefined) {
    this.#definition = definition
    this.#validate = validate
  }

  /**
   * The payload as JSON, for the queue: refused with `InvalidPayloadError` when it is not plain JSON
   * or does not match the schema, and with `PayloadTooLargeError` past `maxPayloadBytes` (found
   * without writing more than that: a huge payload costs the limit, not its size).
   */
  encode(payload: unknown): string {
    const name = this.#definition.name
    if (payload === undefined) {
      this.#check(undefined, 'spawn')
      return NO_PAYLOAD
    }
    const max = this.#definition.maxPayloadBytes
    // A UTF-16 unit is at least one UTF-8 byte: text longer than `max` units is too large already.
    const encoding = readable(payload, 'payload', max)
    if (encoding.problem !== undefined) {
      const { path, found, advice } = encoding.problem
      throw new InvalidPayloadError(name, path, `is ${found}: ${advice}`, 'spawn')
    }
    if (encoding.longerThan !== undefined) throw new PayloadTooLargeError(name, encoding.longerThan + 1, max, false)
    const json = encoding.json
    // A UTF-16 unit is at most 3 UTF-8 bytes: count the bytes only when it may matter.
    if (json.length * 3 > max) {
      const bytes = Buffer.byteLength(json, 'utf8')
      if (bytes > max) throw new PayloadTooLargeError(name, bytes, max)
    }
    // The schema sees what the task will see: the JSON, parsed.
    if (this.#validate !== undefined) this.#check(JSON.parse(json), 'spawn')
    return json
  }

  /**
   * Runs the definition on a payload from the queue: parsed afresh, checked against the schema again
   * (a task fails with `InvalidPayloadError`, `at: 'start'`, if it no longer matches), and its result
   * made JSON (a task fails with `InvalidResultError` if it is not).
   */
  async run(json: string, context: TaskContext): Promise<unknown> {
    const payload: unknown = json === NO_PAYLOAD ? undefined : JSON.parse(json)
    this.#check(payload, 'start')
    const result: unknown = await this.#definition.run(payload as never, context as never)
    if (result === undefined) return undefined
    const encoding = readable(result, 'result', Infinity)
    if (encoding.problem !== undefined) {
      const { path, found, advice } = encoding.problem
      throw new InvalidResultError(this.#definition.name, path, `is ${found}: ${advice}`)
    }
    return JSON.parse(encoding.json!) as unknown
  }

  #check(payload: unknown, at: 'spawn' | 'start'): void {
    if (this.#validate === undefined) return
    const mismatch = asMismatch(this.#validate(payload))
    if (mismatch !== undefined) throw new InvalidPayloadError(this.#definition.name, mismatch.path, mismatch.problem, at)
  }
}

/** A validator's verdict, whatever shape it came in: `undefined`, a `{ path, problem }`, or (leniently) a message. */
function asMismatch(verdict: unknown): PayloadMismatch | undefined {
  if (verdict === undefined || verdict === null || verdict === true) return undefined
  if (typeof verdict === 'string') return { path: 'payload', problem: verdict }
  const { path, problem } = verdict as Partial<PayloadMismatch>
  return {
    path: typeof path === 'string' && path.length > 0 ? path : 'payload',
    problem: typeof problem === 'string' && problem.length > 0 ? problem : 'does not match its schema',
  }
}

/**
 * {@link encodeJson}, for values that may fight back: a getter or a proxy trap that throws while
 * the value is read makes it unreadable, reported like any other problem (never thrown as is).
 */
function readable(value: unknown, root: string, maxLength: number): JsonEncoding {
  try {
    return encodeJson(value, root, maxLength)
  } catch (error) {
    let why: string
    try {
      why = error instanceof Error ? error.message : String(error)
    } catch {
      why = 'an unprintable error'
    }
    return { problem: { path: root, found: 'unreadable', advice: `reading it threw (${why.slice(0, 200)}): pass plain data` } }
  }
}
