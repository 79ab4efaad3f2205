/**
 * The load generator of the HTTP throughput benchmark, run in its own process by
 * `http-throughput.ts` and `backpressure-latency.ts`: `node dist/http-load.js '<LoadConfig as
 * JSON>'`. Drives autocannon (programmatic API) against `http://127.0.0.1:<port><path>` (`/` unless
 * the config names a path) and speaks the protocol in `http-protocol.ts`.
 */
import { createInterface } from 'node:readline'
import autocannon from 'autocannon'
import { GO_COMMAND, HOST, LOAD_CONFIG_KEYS, parseNumbers, WARM_LINE, type LoadConfig, type LoadResult } from './http-protocol.js'
import { LatencyHistogram } from './latency-histogram.js'

const config = parseNumbers<LoadConfig>(process.argv[2] ?? '', LOAD_CONFIG_KEYS, 'http-load config')
const path = config.path ?? '/'
if (typeof path !== 'string' || !path.startsWith('/'))
  throw new Error(`http-load config: path must start with '/', got ${JSON.stringify(path)}`)

const commands = createInterface({ input: process.stdin })
// stdin ends when the benchmark dies: never outlive it.
commands.on('close', () => process.exit(1))
const go = new Promise<void>((resolve) => {
  commands.on('line', (line) => {
    if (line === GO_COMMAND) resolve()
  })
})

/** Runs autocannon for `seconds`; `onLatency` gets each response's latency in ms. */
function fire(seconds: number, onLatency?: (ms: number) => void): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://${HOST}:${config.port}${path}`,
        connections: config.connections,
        pipelining: config.pipelining,
        duration: seconds,
      },
      (error: unknown, result) => {
        if (error === null || error === undefined) resolve(result)
        else reject(error instanceof Error ? error : new Error('autocannon failed', { cause: error }))
      },
    )
    if (onLatency !== undefined) instance.on('response', (_client, _status, _bytes, ms) => onLatency(ms))
  })
}

const warmup = await fire(config.warmupSeconds)
if (warmup.errors > 0 || warmup.non2xx > 0) {
  throw new Error(`http-load: warm-up had ${warmup.errors} connection errors and ${warmup.non2xx} non-2xx responses`)
}
process.stdout.write(`${WARM_LINE}\n`)
await go

const latencies = new LatencyHistogram(config.latencyBucketsPerMs)
const cpuBefore = process.cpuUsage()
const result = await fire(config.durationSeconds, (ms) => latencies.record(ms))
const cpu = process.cpuUsage(cpuBefore)
const loadResult: LoadResult = {
  requests: result['2xx'],
  seconds: (result.finish.getTime() - result.start.getTime()) / 1000,
  p50Ms: latencies.percentile(50),
  p99Ms: latencies.percentile(99),
  errors: result.errors,
  non2xx: result.non2xx,
  cpuUs: cpu.user + cpu.system,
}
process.stdout.write(`${JSON.stringify(loadResult)}\n`, () => process.exit(0))
