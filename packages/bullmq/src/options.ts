import { InvalidOptionError } from '@fastify-tasks/core'
import { checkDuration, checkInteger, checkKnownKeys, checkObject, checkOneOf, checkString } from '@fastify-tasks/core/validation'
import { Redis, type Cluster, type RedisOptions } from 'ioredis'

/** A connection to Redis: a single server (or a Sentinel set), or a Redis Cluster. */
export type RedisClient = Redis | Cluster

/** What this process does with the shared queue. */
export type Role = 'both' | 'producer' | 'consumer'

/** Options of {@link bullmqBackend}. */
export interface BullmqBackendOptions {
  /**
   * Where Redis is: a `redis://` or `rediss://` (TLS) URL, ioredis options (Sentinel, TLS, …), an
   * ioredis client, or an ioredis `Cluster` (a Redis Cluster; `prefix` then needs a hash tag). A
   * client or cluster is duplicated, never used or closed itself. A bare `host:port` string is
   * refused (ioredis would read it as a path and quietly connect to 127.0.0.1:6379).
   */
  connection: string | RedisOptions | Redis | Cluster
  /**
   * `both` (the default) spawns and runs tasks; `producer` only spawns (API replicas: no worker, no
   * blocking connection); `consumer` only runs them (a worker process; it may still spawn).
   * @default 'both'
   */
  role?: Role
  /** The BullMQ queue every named task goes through. @default 'fastify-tasks' */
  queue?: string
  /**
   * The key prefix in Redis. With a Redis Cluster it must hold a hash tag, such as `{tasks}`, so that
   * every key of the queue is in one slot (BullMQ's scripts need it).
   * @default 'bull', and '{bull}' with a Redis Cluster
   */
  prefix?: string
  /**
   * Jobs this process runs at once. Keep it at or below the scheduler's `concurrency`: this is
   * how many jobs the worker takes from Redis, the scheduler's limits then apply to them.
   * @default 50
   */
  concurrency?: number
  /**
   * How long a spawn waits for Redis to acknowledge it before its `admitted` rejects with
   * `BackendUnavailableError`. A spawn while Redis is disconnected fails at once.
   * @default 2_000
   */
  admissionTimeout?: number
  /**
   * Finished jobs kept in Redis, the newest first: at most `count` of each, and with `age`, none
   * older than that many ms (pruned when a job finishes; an age costs a little more per job). Redis
   * memory stays bounded like the scheduler's history.
   * @default { completed: { count: 1_000 }, failed: { count: 10_000 } }
   */
  retention?: { completed?: Retention; failed?: Retention }
  /**
   * Times a job may be found stalled (its worker died or lost Redis) and put back before it fails.
   * Jobs given back at shutdown do not count (they are moved back, not stalled).
   * @default 5
   */
  maxStalledCount?: number
  /**
   * How long a job's lock lasts without renewal, in ms: after it, a job whose worker died is
   * found stalled and runs again elsewhere (the duplicate-run window after a crash).
   * @default 30_000
   */
  lockDuration?: number
  /**
   * How often this process's worker looks for stalled jobs (whose lock expired), in ms.
   * @default 30_000
   */
  stalledInterval?: number
  /**
   * How long a job whose name this process has no definition of waits before it is offered again
   * (a rolling deploy: another worker may know it). It is never failed for that.
   * @default 5_000
   */
  unknownTaskDelay?: number
  /** Called with errors of the connections and of BullMQ's own bookkeeping (logged by fastify-tasks when absent). */
  onError?: (error: Error) => void
}

/** How many finished jobs are kept. */
export interface Retention {
  /** Most jobs kept. */
  count?: number
  /** Oldest kept, in ms. */
  age?: number
}

/** Options after defaults and validation. */
export interface ResolvedBackendOptions {
  readonly connect: (overrides: RedisOptions) => RedisClient
  readonly role: Role
  readonly queue: string
  readonly prefix: string
  readonly concurrency: number
  readonly admissionTimeout: number
  readonly completed: KeepJobs
  readonly failed: KeepJobs
  readonly maxStalledCount: number
  readonly lockDuration: number
  readonly stalledInterval: number
  readonly unknownTaskDelay: number
  readonly onError: ((error: Error) => void) | undefined
}

const KEYS = [
  'connection',
  'role',
  'queue',
  'prefix',
  'concurrency',
  'admissionTimeout',
  'retention',
  'maxStalledCount',
  'lockDuration',
  'stalledInterval',
  'unknownTaskDelay',
  'onError',
] as const
const ROLES = ['both', 'producer', 'consumer'] as const
const NAME = { minLength: 1 } as const

export function resolveBackendOptions(options: unknown): ResolvedBackendOptions {
  const o = checkObject('bullmqBackend(options)', options)
  checkKnownKeys('bullmqBackend(options)', o, KEYS)
  const retention = o['retention'] === undefined ? {} : checkObject('bullmqBackend(options.retention)', o['retention'])
  checkKnownKeys('bullmqBackend(options.retention)', retention, ['completed', 'failed'])
  const onError = o['onError']
  if (onError !== undefined && typeof onError !== 'function') {
    throw new InvalidOptionError('bullmqBackend(options.onError)', 'a function (error) => void', onError)
  }
  const queue = checkString('bullmqBackend(options.queue)', o['queue'] ?? 'fastify-tasks', NAME)
  if (queue.includes(':')) throw new InvalidOptionError('bullmqBackend(options.queue)', 'a name without ":"', queue)
  const cluster = isCluster(o['connection'])
  const prefix = checkString('bullmqBackend(options.prefix)', o['prefix'] ?? (cluster ? '{bull}' : 'bull'), NAME)
  if (cluster && !/\{[^{}]+\}/.test(prefix)) {
    throw new InvalidOptionError(
      'bullmqBackend(options.prefix)',
      'a prefix with a hash tag, such as "{tasks}", with a Redis Cluster (every key of the queue must be in one slot)',
      prefix,
    )
  }
  return {
    connect: connector(o['connection']),
    role: checkOneOf('bullmqBackend(options.role)', o['role'] ?? 'both', ROLES),
    queue,
    prefix,
    concurrency: checkInteger('bullmqBackend(options.concurrency)', o['concurrency'] ?? 50, { min: 1, max: 10_000 }),
    admissionTimeout: checkDuration('bullmqBackend(options.admissionTimeout)', o['admissionTimeout'] ?? 2_000, { above: 0 }),
    completed: retained('completed', retention['completed'], { count: 1_000 }),
    failed: retained('failed', retention['failed'], { count: 10_000 }),
    maxStalledCount: checkInteger('bullmqBackend(options.maxStalledCount)', o['maxStalledCount'] ?? 5, { min: 0, max: 1_000 }),
    lockDuration: checkDuration('bullmqBackend(options.lockDuration)', o['lockDuration'] ?? 30_000, { above: 999 }),
    stalledInterval: checkDuration('bullmqBackend(options.stalledInterval)', o['stalledInterval'] ?? 30_000, { above: 99 }),
    unknownTaskDelay: checkDuration('bullmqBackend(options.unknownTaskDelay)', o['unknownTaskDelay'] ?? 5_000, { above: 0 }),
    onError: onError as ((error: Error) => void) | undefined,
  }
}

function retained(which: 'completed' | 'failed', value: unknown, defaults: KeepJobs): KeepJobs {
  if (value === undefined) return defaults
  const name = `bullmqBackend(options.retention.${which})`
  const r = checkObject(name, value)
  checkKnownKeys(name, r, ['count', 'age'])
  const count = r['count'] === undefined ? defaults.count : checkInteger(`${name}.count`, r['count'], { min: 0 })
  if (r['age'] === undefined) return { count }
  // BullMQ counts ages in seconds.
  return { count, age: Math.ceil(checkDuration(`${name}.age`, r['age'], { above: 999 }) / 1_000) }
}

/** BullMQ's retention of finished jobs: the newest `count`, none older than `age` seconds. */
interface KeepJobs {
  readonly count: number
  readonly age?: number
}

const EXPECTED_CONNECTION = 'a redis:// or rediss:// URL, ioredis options, an ioredis client or an ioredis Cluster'

/** How to open a connection with some options of ours on top of the user's. */
function connector(connection: unknown): (overrides: RedisOptions) => RedisClient {
  const name = 'bullmqBackend(options.connection)'
  // Clients are recognised by what they do, not by class: an app's ioredis may be another copy or
  // version than this package's, and one read as options would connect to 127.0.0.1:6379 instead.
  // A Cluster's options for its nodes' connections are its `redisOptions`.
  if (isCluster(connection)) {
    return (overrides) => connection.duplicate(undefined, { redisOptions: { ...connection.options.redisOptions, ...overrides } })
  }
  if (isClient(connection)) return (overrides) => connection.duplicate(overrides)
  if (typeof connection === 'string') {
    let url: URL
    try {
      url = new URL(connection)
    } catch {
      throw new InvalidOptionError(name, EXPECTED_CONNECTION, connection)
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
      throw new InvalidOptionError(name, EXPECTED_CONNECTION, connection)
    }
    return (overrides) => new Redis(connection, overrides)
  }
  if (typeof connection === 'object' && connection !== null && !Array.isArray(connection)) {
    const prototype: unknown = Object.getPrototypeOf(connection)
    // Options are a plain object: an instance of something else is not options (nor a client this
    // package can use), and must not quietly become a connection to 127.0.0.1:6379.
    if (prototype !== Object.prototype && prototype !== null) throw new InvalidOptionError(name, EXPECTED_CONNECTION, connection)
    const base = connection as RedisOptions
    return (overrides) => new Redis({ ...base, ...overrides })
  }
  throw new InvalidOptionError(name, EXPECTED_CONNECTION, connection)
}

/** An ioredis `Cluster`, of any copy or version of ioredis: `isCluster`, `duplicate` and its options. */
export function isCluster(value: unknown): value is Cluster {
  const v = value as Partial<Cluster> | null
  return (
    typeof v === 'object' &&
    v !== null &&
    v.isCluster === true &&
    typeof v.duplicate === 'function' &&
    typeof v.options === 'object' &&
    v.options !== null
  )
}

/** An ioredis client (not a cluster), of any copy or version of ioredis. */
function isClient(value: unknown): value is Redis {
  const v = value as Partial<Redis> | null
  return (
    typeof v === 'object' &&
    v !== null &&
    v.isCluster !== true &&
    typeof v.duplicate === 'function' &&
    typeof v.sendCommand === 'function' &&
    typeof v.options === 'object'
  )
}
