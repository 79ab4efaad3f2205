import { InvalidPayloadError, InvalidResultError, PayloadTooLargeError } from '../errors.js'
import type { TaskContext } from '../task.js'
import type { AnyTaskDefinition } from './define-task.js'
import { findNonJson, type JsonProblem } from './json-value.js'
import type { PayloadValidator } from './schema-compiler.js'

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
   * or does not match the schema, and with `PayloadTooLargeError` past `maxPayloadBytes`.
   */
  encode(payload: unknown): string {
    const name = this.#definition.name
    if (payload === undefined) {
      this.#check(undefined, 'spawn')
      return NO_PAYLOAD
    }
    const problem = readableJson(payload, 'payload') ?? stringified(payload, 'payload')
    if (typeof problem !== 'string') throw new InvalidPayloadError(name, problem.path, `is ${problem.found}: ${problem.advice}`, 'spawn')
    const json = problem
    const max = this.#definition.maxPayloadBytes
    // A UTF-8 byte is at most 3 per UTF-16 unit: count the bytes only when it may matter.
    if (json.length * 3 > max) {
      const bytes = Buffer.byteLength(json, 'utf8')
      if (bytes > max) throw new PayloadTooLargeError(name, bytes, max)
    }
    // The schema sees what the task will see: the JSON, parsed (no getter of the caller's object runs again).
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
    const problem = readableJson(result, 'result') ?? stringified(result, 'result')
    if (typeof problem !== 'string')
      throw new InvalidResultError(this.#definition.name, problem.path, `is ${problem.found}: ${problem.advice}`)
    return JSON.parse(problem) as unknown
  }

  #check(payload: unknown, at: 'spawn' | 'start'): void {
    if (this.#validate === undefined) return
    const mismatch = this.#validate(payload)
    if (mismatch !== undefined) throw new InvalidPayloadError(this.#definition.name, mismatch.path, mismatch.problem, at)
  }
}

/**
 * {@link findNonJson}, for values that may fight back: a getter or a proxy trap that throws while
 * the value is read makes it unreadable, reported like any other problem (never thrown as is).
 */
function readableJson(value: unknown, root: string): JsonProblem | undefined {
  try {
    return findNonJson(value, root)
  } catch (error) {
    return unreadable(root, error)
  }
}

/** The JSON of a value {@link findNonJson} accepted, or the problem if writing it throws after all (a getter that changed its mind). */
function stringified(value: unknown, root: string): string | JsonProblem {
  try {
    return JSON.stringify(value)
  } catch (error) {
    return unreadable(root, error)
  }
}

function unreadable(root: string, error: unknown): JsonProblem {
  let why: string
  try {
    why = error instanceof Error ? error.message : String(error)
  } catch {
    why = 'an unprintable error'
  }
  return { path: root, found: 'unreadable', advice: `reading it threw (${why.slice(0, 200)}): pass plain data` }
}
