import { InvalidOptionError } from '@fastify-tasks/core'

/** Throws, naming `where.key`, if `value` has a key not in `known` (a typo would otherwise be ignored). */
export function checkKnownKeys(where: string, value: object, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new InvalidOptionError(`${where}.${key}`, `one of the known options (${known.join(', ')})`, (value as Record<string, unknown>)[key])
    }
  }
}
