import { InvalidOptionError } from '@fastify-tasks/core'

/** Throws, naming `option`, unless `value` is milliseconds as a finite number >= 0 (`Infinity` is refused). */
export function checkMilliseconds(option: string, value: unknown): number {
  if (typeof value === 'number' && value >= 0 && Number.isFinite(value)) return value
  throw new InvalidOptionError(option, 'milliseconds as a finite number >= 0', value)
}
