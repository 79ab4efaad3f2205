import { InvalidOptionError, type SchedulerOptions } from '@fastify-tasks/core'

/** Options of the fastify-tasks plugin: every scheduler option, plus the drain on close. */
export interface FastifyTasksOptions extends SchedulerOptions {
  /**
   * Milliseconds the drain on close lets queued and running tasks finish before aborting the rest
   * with reason `shutdown` (who then get `abortGrace` more to settle).
   * @default 10_000
   */
  drainTimeout?: number
}

export const DEFAULT_DRAIN_TIMEOUT = 10_000

/** Keys Fastify itself accepts in `register` options; they are not ours to validate. */
const REGISTER_KEYS = new Set(['prefix', 'logLevel', 'logSerializers'])

export function checkDrainTimeout(option: string, value: unknown): number {
  if (typeof value === 'number' && value >= 0 && Number.isFinite(value)) return value
  throw new InvalidOptionError(option, 'milliseconds as a finite number >= 0', value)
}

/** Splits plugin options into the scheduler's and the plugin's own. */
export function splitOptions(options: unknown): { scheduler: SchedulerOptions; drainTimeout: number } {
  if (options === undefined) return { scheduler: {}, drainTimeout: DEFAULT_DRAIN_TIMEOUT }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidOptionError('options', 'an object', options)
  }
  const scheduler: Record<string, unknown> = {}
  let drainTimeout = DEFAULT_DRAIN_TIMEOUT
  for (const [key, value] of Object.entries(options)) {
    if (key === 'drainTimeout') {
      if (value !== undefined) drainTimeout = checkDrainTimeout('drainTimeout', value)
    } else if (!REGISTER_KEYS.has(key)) {
      scheduler[key] = value
    }
  }
  return { scheduler: scheduler, drainTimeout }
}
