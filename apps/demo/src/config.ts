/** The demo's configuration, from environment variables with defaults. */
export interface DemoConfig {
  /** `PORT`: 0 picks a free port. @default 3000 */
  readonly port: number
  /** `HOST`. @default '127.0.0.1' (use 0.0.0.0 in a container) */
  readonly host: string
  /** `LOG_LEVEL`. @default 'info' */
  readonly logLevel: string
  /** `CONCURRENCY`: background tasks running at once. @default 32 */
  readonly concurrency: number
  /** `MAX_QUEUE`: background tasks waiting for a slot. @default 1000 */
  readonly maxQueue: number
  /** `DRAIN_TIMEOUT_MS`: how long shutdown lets tasks finish. @default 10000 */
  readonly drainTimeout: number
  /** `TASK_TIMEOUT_MS`: the default deadline of a task. @default 30000 */
  readonly taskTimeout: number
  /** `REDIS_URL`: keep tasks in Redis (the BullMQ backend), shared by every replica. @default none (in memory) */
  readonly redisUrl: string | undefined
  /**
   * `ROLE`, with `REDIS_URL`: `api` spawns tasks and runs none, `worker` runs them (no order routes),
   * `both` does both. @default 'both'
   */
  readonly role: 'api' | 'worker' | 'both'
}

const ROLES = new Set(['api', 'worker', 'both'])

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}; got ${JSON.stringify(raw)}`)
  }
  return value
}

/** Reads the configuration; throws naming the variable when one is malformed. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): DemoConfig {
  const logLevel = env['LOG_LEVEL'] ?? 'info'
  if (!LEVELS.has(logLevel)) throw new Error(`LOG_LEVEL must be one of ${[...LEVELS].join(', ')}; got ${JSON.stringify(logLevel)}`)
  const redisUrl = env['REDIS_URL'] === '' ? undefined : env['REDIS_URL']
  const role = env['ROLE'] === undefined || env['ROLE'] === '' ? 'both' : env['ROLE']
  if (!ROLES.has(role)) throw new Error(`ROLE must be one of api, worker, both; got ${JSON.stringify(role)}`)
  if (role !== 'both' && redisUrl === undefined) throw new Error(`ROLE=${role} needs REDIS_URL: in memory, one process does both`)
  return {
    redisUrl,
    role: role as DemoConfig['role'],
    port: integer(env, 'PORT', 3000, 0, 65_535),
    host: env['HOST'] ?? '127.0.0.1',
    logLevel,
    concurrency: integer(env, 'CONCURRENCY', 32, 1, 10_000),
    maxQueue: integer(env, 'MAX_QUEUE', 1_000, 0, 1_000_000),
    drainTimeout: integer(env, 'DRAIN_TIMEOUT_MS', 10_000, 0, 600_000),
    taskTimeout: integer(env, 'TASK_TIMEOUT_MS', 30_000, 1, 3_600_000),
  }
}
