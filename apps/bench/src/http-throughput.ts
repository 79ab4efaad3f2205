/**
 * HTTP throughput of a Fastify hello world, plain and with fastify-tasks. For each measurement the
 * server (`http-server.ts`) and the load generator (`http-load.ts`) run in two child processes, one
 * core each; this process only starts them, reads the server's CPU time around the measured window,
 * and kills both afterwards. Variants alternate in rounds, their order rotated each round.
 */
import { LineChild } from './child-process.js'
import {
  CPU_COMMAND,
  CPU_READING_KEYS,
  GO_COMMAND,
  LOAD_RESULT_KEYS,
  parseNumbers,
  WARM_LINE,
  type CpuReading,
  type LoadConfig,
  type LoadResult,
} from './http-protocol.js'
import { HTTP_BASELINE, HTTP_VARIANTS, type HttpVariantId } from './http-variants.js'
import { median } from './median.js'
import { rotate } from './rotate.js'

export interface HttpThroughputOptions {
  /** Measurements per variant; every round measures each variant once. */
  readonly rounds: number
  readonly connections: number
  readonly pipelining: number
  readonly warmupSeconds: number
  readonly durationSeconds: number
  /** Called after each measurement. */
  readonly onMeasurement?: () => void
}

export interface HttpVariantStats {
  /** Requests per second: median and range over the rounds. */
  readonly rps: number
  readonly rpsMin: number
  readonly rpsMax: number
  /** Median over the rounds of (this variant's req/s ÷ the baseline's req/s in the same round). */
  readonly ratioToBaseline: number
  /** Medians over the rounds of each round's latency percentiles, ms. */
  readonly p50Ms: number
  readonly p99Ms: number
  /** Median server CPU time (user + system) per request over the measured window, µs. */
  readonly serverCpuUs: number
  /** Median over the rounds of (this variant's server µs/request − the baseline's in the same round). */
  readonly addedCpuUs: number
  /** Range of those per-round differences. */
  readonly addedCpuUsMin: number
  readonly addedCpuUsMax: number
  /** Server µs/request of each round, in round order: for differences between two variants. */
  readonly serverCpuUsByRound: readonly number[]
  /** Median share of one core the server and the load generator were busy during the window. */
  readonly serverBusy: number
  readonly loaderBusy: number
}

export type HttpThroughputResult = Readonly<Record<HttpVariantId, HttpVariantStats>>

/** One measurement of one variant. */
interface Sample {
  readonly rps: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly serverCpuUs: number
  readonly serverBusy: number
  readonly loaderBusy: number
}

const START_TIMEOUT_MS = 30_000
const REPLY_TIMEOUT_MS = 10_000
/** Beyond the load's own duration, before a silent load generator counts as hung. */
const RUN_SLACK_MS = 30_000

async function readCpu(server: LineChild): Promise<{ cpuUs: number; at: number }> {
  server.send(CPU_COMMAND)
  const reading = parseNumbers<CpuReading>(await server.nextLine('its CPU usage', REPLY_TIMEOUT_MS), CPU_READING_KEYS, 'http-server cpu')
  return { cpuUs: reading.user + reading.system, at: performance.now() }
}

async function measure(variant: HttpVariantId, options: HttpThroughputOptions): Promise<Sample> {
  const server = new LineChild(`http-server (${variant})`, './http-server.js', [variant])
  try {
    const port = Number(await server.nextLine('its port', START_TIMEOUT_MS))
    if (!Number.isInteger(port) || port <= 0) throw new Error(`http-server (${variant}) printed no valid port`)
    const config: LoadConfig = {
      port,
      connections: options.connections,
      pipelining: options.pipelining,
      warmupSeconds: options.warmupSeconds,
      durationSeconds: options.durationSeconds,
    }
    const loader = new LineChild(`http-load (${variant})`, './http-load.js', [JSON.stringify(config)])
    try {
      const warm = await loader.nextLine(`"${WARM_LINE}"`, START_TIMEOUT_MS + options.warmupSeconds * 1000)
      if (warm !== WARM_LINE) throw new Error(`http-load (${variant}): expected "${WARM_LINE}", got ${JSON.stringify(warm)}`)
      // The server is idle between this reading and "go", and after the run until the next one.
      const before = await readCpu(server)
      loader.send(GO_COMMAND)
      const line = await loader.nextLine('its result', options.durationSeconds * 1000 + RUN_SLACK_MS)
      const after = await readCpu(server)
      const load = parseNumbers<LoadResult>(line, LOAD_RESULT_KEYS, `http-load (${variant}) result`)
      if (load.errors > 0 || load.non2xx > 0 || load.requests === 0) {
        throw new Error(`${variant}: ${load.requests} 2xx responses, ${load.errors} connection errors, ${load.non2xx} non-2xx`)
      }
      const serverCpuUs = after.cpuUs - before.cpuUs
      return {
        rps: load.requests / load.seconds,
        p50Ms: load.p50Ms,
        p99Ms: load.p99Ms,
        serverCpuUs: serverCpuUs / load.requests,
        serverBusy: serverCpuUs / ((after.at - before.at) * 1000),
        loaderBusy: load.cpuUs / (load.seconds * 1e6),
      }
    } finally {
      await loader.stop()
    }
  } finally {
    await server.stop()
  }
}

export async function measureHttpThroughput(options: HttpThroughputOptions): Promise<HttpThroughputResult> {
  /** samples[round][variant] */
  const rounds: Record<HttpVariantId, Sample>[] = []
  for (let round = 0; round < options.rounds; round++) {
    const samples: Partial<Record<HttpVariantId, Sample>> = {}
    for (const variant of rotate(HTTP_VARIANTS, round)) {
      samples[variant] = await measure(variant, options)
      options.onMeasurement?.()
    }
    rounds.push(samples as Record<HttpVariantId, Sample>)
  }

  const stats = (variant: HttpVariantId): HttpVariantStats => {
    const of = (field: keyof Sample): number[] => rounds.map((round) => round[variant][field])
    const rps = of('rps')
    const added = rounds.map((round) => round[variant].serverCpuUs - round[HTTP_BASELINE].serverCpuUs)
    return {
      rps: median(rps),
      rpsMin: Math.min(...rps),
      rpsMax: Math.max(...rps),
      ratioToBaseline: median(rounds.map((round) => round[variant].rps / round[HTTP_BASELINE].rps)),
      p50Ms: median(of('p50Ms')),
      p99Ms: median(of('p99Ms')),
      serverCpuUs: median(of('serverCpuUs')),
      addedCpuUs: median(added),
      addedCpuUsMin: Math.min(...added),
      addedCpuUsMax: Math.max(...added),
      serverCpuUsByRound: of('serverCpuUs'),
      serverBusy: median(of('serverBusy')),
      loaderBusy: median(of('loaderBusy')),
    }
  }
  return Object.fromEntries(HTTP_VARIANTS.map((variant) => [variant, stats(variant)])) as Record<HttpVariantId, HttpVariantStats>
}
