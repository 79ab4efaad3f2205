/**
 * One measured window of HTTP load against a server child: the server (a script that prints its
 * port, then answers a stats command with one line of numbers) and the load generator
 * (`http-load.js`) each in a process of its own; the server's stats are read just before the
 * measured window and just after it. Both children are stopped whatever happens.
 */
import { LineChild } from './child-process.js'
import { GO_COMMAND, LOAD_RESULT_KEYS, parseNumbers, WARM_LINE, type LoadConfig, type LoadResult } from './http-protocol.js'

const START_TIMEOUT_MS = 30_000
const REPLY_TIMEOUT_MS = 10_000
/** Beyond the load's own duration, before a silent load generator counts as hung. */
const RUN_SLACK_MS = 30_000

/** The server child: its script, its arguments, and how to ask for and read its stats. */
export interface StatsServer<S> {
  /** `./queued-server.js`, relative to this file's directory. */
  readonly script: string
  readonly args: readonly string[]
  /** Names the children in errors: `queued-server (empty)`. */
  readonly name: string
  readonly statsCommand: string
  readonly statsKeys: readonly (keyof S & string)[]
}

/** The server's stats at one instant, with the time they were read (`performance.now()`). */
export interface StatsReading<S> {
  readonly stats: S
  readonly at: number
}

export interface LoadedWindow<S> {
  readonly load: LoadResult
  readonly before: StatsReading<S>
  readonly after: StatsReading<S>
}

async function readStats<S>(child: LineChild, server: StatsServer<S>): Promise<StatsReading<S>> {
  child.send(server.statsCommand)
  const line = await child.nextLine('its stats', REPLY_TIMEOUT_MS)
  return { stats: parseNumbers<S>(line, server.statsKeys, `${server.name} stats`), at: performance.now() }
}

/**
 * Starts the server, loads it (`load` without the port, which the server prints), and returns the
 * load generator's result and the server's stats around the measured window. Throws on any error or
 * non-2xx response, or when nothing was served.
 */
export async function measureLoadedWindow<S>(server: StatsServer<S>, load: Omit<LoadConfig, 'port'>): Promise<LoadedWindow<S>> {
  const child = new LineChild(server.name, server.script, [...server.args])
  try {
    const port = Number(await child.nextLine('its port', START_TIMEOUT_MS))
    if (!Number.isInteger(port) || port <= 0) throw new Error(`${server.name} printed no valid port`)
    const config: LoadConfig = { ...load, port }
    const loaderName = `http-load (${server.name})`
    const loader = new LineChild(loaderName, './http-load.js', [JSON.stringify(config)])
    try {
      const warm = await loader.nextLine(`"${WARM_LINE}"`, START_TIMEOUT_MS + load.warmupSeconds * 1000)
      if (warm !== WARM_LINE) throw new Error(`${loaderName}: expected "${WARM_LINE}", got ${JSON.stringify(warm)}`)
      const before = await readStats(child, server)
      loader.send(GO_COMMAND)
      const line = await loader.nextLine('its result', load.durationSeconds * 1000 + RUN_SLACK_MS)
      const after = await readStats(child, server)
      const result = parseNumbers<LoadResult>(line, LOAD_RESULT_KEYS, `${loaderName} result`)
      if (result.errors > 0 || result.non2xx > 0 || result.requests === 0) {
        throw new Error(`${server.name}: ${result.requests} 2xx responses, ${result.errors} connection errors, ${result.non2xx} non-2xx`)
      }
      return { load: result, before, after }
    } finally {
      await loader.stop()
    }
  } finally {
    await child.stop()
  }
}
