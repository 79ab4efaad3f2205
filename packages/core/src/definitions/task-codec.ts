import { InvalidPayloadError, InvalidResultError, PayloadTooLargeError } from '../errors.js'
import type { TaskContext } from '../task.js'
import type { AnyTaskDefinition } from './define-task.js'
import { findNonJson } from './json-value.js'
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
    const problem = findNonJson(payload, 'payload')
    if (problem !== undefined) throw new InvalidPayloadError(name, problem.path, `is ${problem.found}: ${problem.advice}`, 'spawn')
    this.#check(payload, 'spawn')
    const json = JSON.stringify(payload)
    const max = this.#definition.maxPayloadBytes
    // A UTF-8 byte is at most 3 per UTF-16 unit: count the bytes only when it may matter.
    if (json.length * 3 > max) {
      const bytes = Buffer.byteLength(json, 'utf8')
      if (bytes > max) throw new PayloadTooLargeError(name, bytes, max)
    }
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
    const problem = findNonJson(result, 'result')
    if (problem !== undefined) throw new InvalidResultError(this.#definition.name, problem.path, `is ${problem.found}: ${problem.advice}`)
    return JSON.parse(JSON.stringify(result)) as unknown
  }

  #check(payload: unknown, at: 'spawn' | 'start'): void {
    if (this.#validate === undefined) return
    const mismatch = this.#validate(payload)
    if (mismatch !== undefined) throw new InvalidPayloadError(this.#definition.name, mismatch.path, mismatch.problem, at)
  }
}
