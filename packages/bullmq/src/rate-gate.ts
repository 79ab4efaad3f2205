import type { RateLimit } from '@fastify-tasks/core'
import type { RedisClient } from './options.js'

/**
 * One start of a rate-limited name, counted in Redis for every replica: a fixed window that begins
 * with its first start (as the scheduler's own `limits.rate`). Returns 0 when the start may go ahead,
 * else the ms to wait. A start over the limit is counted too, so the n-th one over waits n / max
 * windows more: jobs given back do not all come back at once.
 *
 * KEYS[1] the name's window; ARGV[1] max, ARGV[2] duration (ms).
 */
const WINDOW_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
local duration = tonumber(ARGV[2])
if count == 1 then redis.call('PEXPIRE', KEYS[1], duration) end
local max = tonumber(ARGV[1])
if count <= max then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], duration)
  ttl = duration
end
return ttl + math.floor((count - max - 1) / max) * duration
`

type Counting = RedisClient & { fastifyTasksRate(key: string, max: number, duration: number): Promise<number> }

/**
 * The rate limits of `limits.rate`, held across every replica: each start of a rate-limited name is
 * counted in Redis first (one round trip, a script), and a start over the limit is given back to the
 * queue until its window has room. Redis not answering lets the start go ahead (reported): a rate
 * limit must not stop the work it paces.
 */
export class RateGate {
  readonly #client: Counting
  readonly #keyPrefix: string
  readonly #report: (error: Error) => void

  constructor(client: RedisClient, keyPrefix: string, report: (error: Error) => void) {
    client.defineCommand('fastifyTasksRate', { numberOfKeys: 1, lua: WINDOW_SCRIPT })
    this.#client = client as Counting
    this.#keyPrefix = keyPrefix
    this.#report = report
  }

  /** 0 when a start of `name` may go ahead now, else the ms until its window has room. */
  async wait(name: string, rate: RateLimit): Promise<number> {
    try {
      return await this.#client.fastifyTasksRate(`${this.#keyPrefix}${name}`, rate.max, rate.duration)
    } catch (error) {
      this.#report(
        new Error(`The rate limit of task "${name}" could not be checked in Redis (${(error as Error).message}): started anyway`),
      )
      return 0
    }
  }
}
