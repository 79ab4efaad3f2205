import { InvalidOptionError, InvalidPayloadError, InvalidResultError, UnknownTaskError } from '../errors.js'
import type { RetryPlan, TaskFunction } from '../task.js'
import { retryDelay } from './backoff.js'
import { isTaskDefinition, type AnyTaskDefinition } from './define-task.js'
import type { SchemaCompiler } from './schema-compiler.js'
import { TaskCodec } from './task-codec.js'

/** A registered definition, ready to spawn. */
export interface RegisteredTask {
  readonly definition: AnyTaskDefinition
  readonly codec: TaskCodec
}

/**
 * The named tasks a scheduler knows (its `tasks` option), by name, their schemas compiled once. A
 * definition must be registered to be spawned, on every backend: a durable one runs tasks in
 * processes that know them only by name.
 */
export class TaskRegistry {
  readonly #byName = new Map<string, RegisteredTask>()

  constructor(definitions: readonly unknown[], compile: SchemaCompiler | undefined) {
    // A plain loop: `forEach` would skip the holes of a sparse array.
    for (let i = 0; i < definitions.length; i++) {
      const definition = definitions[i]
      if (!isTaskDefinition(definition)) throw new InvalidOptionError(`tasks[${i}]`, 'a definition made by defineTask()', definition)
      const name = definition.name
      const known = this.#byName.get(name)
      if (known !== undefined) {
        if (known.definition === definition) continue
        throw new InvalidOptionError(`tasks[${i}]`, `one definition per task name, but "${name}" is defined twice`, definition)
      }
      let validate
      if (definition.payload !== undefined) {
        if (compile === undefined) {
          throw new InvalidOptionError(
            'compileSchema',
            `a function (schema, task) => validator: task "${name}" has a payload schema (fastify-tasks passes one)`,
            undefined,
          )
        }
        try {
          validate = compile(definition.payload, name)
        } catch (error) {
          throw new InvalidOptionError(
            `tasks[${i}].payload`,
            `a JSON schema that compiles (${(error as Error)?.message ?? String(error)})`,
            definition.payload,
          )
        }
        if (typeof validate !== 'function') {
          throw new InvalidOptionError('compileSchema', `a function returning a validator function (for task "${name}")`, validate)
        }
      }
      this.#byName.set(name, { definition, codec: new TaskCodec(definition, validate) })
    }
  }

  /** The registered entry of a definition given to `spawn`; throws if it is not one, or not registered. */
  get(definition: unknown): RegisteredTask {
    if (!isTaskDefinition(definition)) {
      throw new InvalidOptionError('spawn(name)', 'a non-empty string, or a definition made by defineTask()', definition)
    }
    const entry = this.#byName.get(definition.name)
    if (entry === undefined) throw new UnknownTaskError(definition.name, 'pass its definition in the `tasks` option')
    if (entry.definition !== definition) {
      throw new UnknownTaskError(definition.name, 'another definition of that name is registered (was defineTask called twice for it?)')
    }
    return entry
  }

  /** The registered entry of this name, if any (a durable backend hands over tasks by name). */
  named(name: string): RegisteredTask | undefined {
    return this.#byName.get(name)
  }

  /** The wait before attempt `failed + 1` of the task `name`, from its definition's `backoff` (0 when unknown). */
  retryDelay(name: string, failed: number): number {
    const entry = this.#byName.get(name)
    return entry === undefined ? 0 : retryDelay(entry.definition.backoff, failed)
  }

  /** The function the scheduler runs for one spawn of `entry` with `payload`: encodes it now (throws if it is bad). */
  static taskFunction(entry: RegisteredTask, payload: unknown): TaskFunction {
    const json = entry.codec.encode(payload)
    const codec = entry.codec
    return (context) => codec.run(json, context)
  }

  /** How a task of `entry` running `fn` is retried, or `undefined` when its definition has no `retries`. */
  static retryPlan(entry: RegisteredTask, fn: TaskFunction): RetryPlan | undefined {
    const { retries, backoff } = entry.definition
    if (retries === 0) return undefined
    return { fn, retries, delayAfter: (failed) => retryDelay(backoff, failed), retryable }
  }
}

/** Errors the payload or the result caused would fail every attempt the same way: they are not retried. */
function retryable(error: unknown): boolean {
  return !(error instanceof InvalidPayloadError || error instanceof InvalidResultError)
}
