/**
 * What the HTTP benchmark's processes say to each other, one line at a time over stdin and stdout.
 *
 * Server (`http-server.ts`): prints its port once listening; answers each `cpu` line on stdin with
 * its `process.cpuUsage()` as JSON; closes and exits when stdin ends.
 *
 * Load generator (`http-load.ts`, its `LoadConfig` as JSON in argv): runs the warm-up, prints `warm`,
 * waits for `go` on stdin, runs the measurement, prints its `LoadResult` as JSON and exits. Exits at
 * once when stdin ends.
 */

export const CPU_COMMAND = 'cpu'
export const WARM_LINE = 'warm'
export const GO_COMMAND = 'go'

/** The only address the benchmark ever listens on or targets. */
export const HOST = '127.0.0.1'

export interface LoadConfig {
  readonly port: number
  readonly connections: number
  readonly pipelining: number
  /** Seconds of load before the measurement, whose results are discarded. */
  readonly warmupSeconds: number
  readonly durationSeconds: number
  /** Path requested (from `/`). @default '/' */
  readonly path?: string
  /** Resolution of the latency percentiles: buckets per ms, up to 1000 (1 µs). @default 100 (10 µs) */
  readonly latencyBucketsPerMs?: number
}

/** One measured run of the load generator. */
export interface LoadResult {
  /** Responses with a 2xx status. */
  readonly requests: number
  /** Length of the window the responses were counted in. */
  readonly seconds: number
  readonly p50Ms: number
  readonly p99Ms: number
  /** Connection errors (timeouts included) and non-2xx responses; either fails the benchmark. */
  readonly errors: number
  readonly non2xx: number
  /** The load generator's own CPU time (user + system) during the run, µs. */
  readonly cpuUs: number
}

/** `process.cpuUsage()`: cumulative µs. */
export interface CpuReading {
  readonly user: number
  readonly system: number
}

/** Parses one JSON line whose fields must all be finite numbers. */
export function parseNumbers<T>(line: string, keys: readonly (keyof T & string)[], what: string): T {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    throw new Error(`${what}: expected JSON, got ${JSON.stringify(line)}`)
  }
  const record = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>
  for (const key of keys) {
    if (typeof record[key] !== 'number' || !Number.isFinite(record[key])) {
      throw new Error(`${what}: no finite number "${key}" in ${JSON.stringify(line)}`)
    }
  }
  return record as T
}

export const LOAD_CONFIG_KEYS = ['port', 'connections', 'pipelining', 'warmupSeconds', 'durationSeconds'] as const
export const LOAD_RESULT_KEYS = ['requests', 'seconds', 'p50Ms', 'p99Ms', 'errors', 'non2xx', 'cpuUs'] as const
export const CPU_READING_KEYS = ['user', 'system'] as const
