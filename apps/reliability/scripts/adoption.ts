/**
 * Measures the adoption scenario of issue 11: an auth hook's best-effort `db.touch()` (2 % of calls
 * hang forever and ignore any signal), converted naively to a tracked task (`--mode tracked`) or left
 * as `void db.touch().catch(log)` (`--mode untracked`), or converted with `request.tasks.trySpawn`
 * (`--mode best-effort`), under HTTP load from a separate process.
 *
 *   node --import tsx apps/reliability/scripts/adoption.ts --mode tracked --seconds 60 --clients 20 \
 *     [--options '{"concurrency":32,"maxQueue":1000}'] [--max-requests N] [--user-ms 10] [--settle-ms 7500] [--json]
 *
 * Prints requests by status, % 2xx, requests/s, the tasks spawned / completed / timed out / failed /
 * rejected / live by state / leaked (and any given-up figures the summary has), the hung tasks as
 * /debug/tasks groups and /metrics series, and the server's heap and RSS at the start, the middle and
 * the end (each after a full GC). `--json` prints one JSON object instead.
 */
import { parseArgs } from 'node:util'
import {
  getJson,
  getText,
  mib,
  readState,
  runLoad,
  share2xx,
  startServer,
  type Mode,
  type ServerState,
} from '../test/fixtures/adoption-harness.js'

const { values: args } = parseArgs({
  options: {
    mode: { type: 'string', default: 'tracked' },
    seconds: { type: 'string', default: '10' },
    clients: { type: 'string', default: '20' },
    options: { type: 'string' },
    'max-requests': { type: 'string' },
    'user-ms': { type: 'string' },
    'settle-ms': { type: 'string', default: '7500' },
    json: { type: 'boolean', default: false },
  },
})
const mode = args.mode as Mode
if (mode !== 'tracked' && mode !== 'best-effort' && mode !== 'untracked')
  throw new Error(`--mode must be tracked, best-effort or untracked, not ${args.mode}`)
const seconds = Number(args.seconds)
const clients = Number(args.clients)
const maxRequests = Number(args['max-requests'] ?? seconds * 20_000)
const settleMs = Number(args['settle-ms'])
const userMs = args['user-ms'] === undefined ? undefined : Number(args['user-ms'])
const options = args.options === undefined ? undefined : (JSON.parse(args.options) as Record<string, unknown>)

const TASK = 'touch-last-seen'
const KNOWN_SUMMARY_KEYS = new Set([
  'live',
  'spawned',
  'deferred',
  'rejected',
  'outcomes',
  'stuck',
  'oldestRunningAgeMs',
  'leaked',
  'limits',
  'closing',
])
const KNOWN_LIMIT_KEYS = new Set(['concurrency', 'maxQueue', 'overflow', 'timeout', 'abortGrace', 'stuckAfter'])

interface GroupRow {
  name: string
  state: string
  site: string | null
  route: string | null
  count: number
  oldestAgeMs: number
  leaked: number
}

const server = await startServer(mode, options, userMs)
try {
  const start = await readState(server.port)
  const load = runLoad(server.port, { clients, seconds, maxRequests })
  await new Promise((resolve) => setTimeout(resolve, (seconds * 1000) / 2))
  const middle = await readState(server.port)
  const result = await load
  // Long enough for the last hung tasks to pass their deadline (2 s) and, with the default
  // abortGrace (5 s), be flagged leaked.
  await new Promise((resolve) => setTimeout(resolve, settleMs))
  const end = await readState(server.port)
  const debug = await getJson<{ summary: Record<string, unknown>; groups: GroupRow[]; groupsOmitted: number }>(server.port, '/debug/tasks')
  const debugText = await getText(server.port, '/debug/tasks?format=text')
  const metrics = await getText(server.port, '/metrics')
  const metricLines = metrics.body.split('\n').filter((line) => !line.startsWith('#') && line.includes(`task="${TASK}"`))
  const overloadLines = metrics.body.split('\n').filter((line) => line.startsWith('fastify_tasks_overload_trips_total{'))
  const groups = debug.groups.filter((g) => g.name === TASK)
  const s = end.summary
  const extraSummary = Object.fromEntries(Object.entries(s).filter(([k]) => !KNOWN_SUMMARY_KEYS.has(k)))
  const extraLimits = Object.fromEntries(Object.entries(s.limits).filter(([k]) => !KNOWN_LIMIT_KEYS.has(k)))
  const memory = (state: ServerState): { heapUsed: number; rss: number } => ({ heapUsed: state.memory.heapUsed, rss: state.memory.rss })
  const report = {
    scenario: { mode, seconds, clients, maxRequests, options: options ?? 'defaults', userMs: start.userMs, settleMs },
    requests: {
      total: result.requests,
      byStatus: result.byStatus,
      byCode: result.byCode,
      errors: result.errors,
      share2xx: share2xx(result),
      rps: result.rps,
      elapsedMs: result.elapsedMs,
    },
    tasks: {
      spawned: s.spawned,
      outcomes: s.outcomes,
      rejected: s.rejected,
      live: s.live,
      leaked: s.leaked,
      limits: s.limits,
      otherSummaryFields: extraSummary,
      otherLimits: extraLimits,
    },
    db: end.db,
    logs: end.logs,
    memory: { start: memory(start), middle: memory(middle), end: memory(end), gcExposed: end.gcExposed },
    debugGroups: groups,
    metricLines,
    overloadLines,
  }
  if (args.json) {
    console.log(JSON.stringify(report))
  } else {
    const pct = (part: number, whole: number): string => (whole === 0 ? '-' : `${((100 * part) / whole).toFixed(1)} %`)
    const ok = Math.round(share2xx(result) * result.requests)
    const o = s.outcomes
    const lines = [
      `adoption scenario: mode ${mode}, ${clients} clients, ${seconds} s (at most ${maxRequests} requests), plugin options ${JSON.stringify(options ?? 'defaults')}, user lookup ${start.userMs} ms`,
      `requests: ${result.requests} in ${(result.elapsedMs / 1000).toFixed(1)} s = ${result.rps} req/s; 2xx ${ok} (${pct(ok, result.requests)})`,
      `  by status: ${JSON.stringify(result.byStatus)}${Object.keys(result.byCode).length > 0 ? `; non-2xx by code: ${JSON.stringify(result.byCode)}` : ''}${Object.keys(result.errors).length > 0 ? `; errors: ${JSON.stringify(result.errors)}` : ''}`,
      `tasks (${settleMs} ms after the load): spawned ${s.spawned}; completed ${o['completed'] ?? 0} (${pct(o['completed'] ?? 0, s.spawned)} of spawned), timed_out ${o['timed_out'] ?? 0}, failed ${o['failed'] ?? 0}, cancelled ${o['cancelled'] ?? 0}, dropped ${o['dropped'] ?? 0}`,
      `  rejected: ${JSON.stringify(s.rejected)}`,
      `  live: pending ${s.live.pending}, running ${s.live.running}, aborting ${s.live.aborting}, total ${s.live.total}; leaked now ${s.leaked.live}, leaked ever ${s.leaked.total}`,
      `  limits: ${JSON.stringify(s.limits)}`,
      `  given-up / other summary fields: ${Object.keys(extraSummary).length + Object.keys(extraLimits).length === 0 ? 'none in this build' : JSON.stringify({ ...extraSummary, limits: extraLimits })}`,
      `fake db: ${end.db.calls} calls, ${end.db.hung} hung (never settle), ${end.db.settled} settled, ${end.db.inFlight} in flight`,
      `log lines (level warn and above): ${end.logs.lines} ${JSON.stringify(end.logs.byMsg)}`,
      `/debug/tasks groups for ${TASK}: ${groups.length === 0 ? 'none' : groups.map((g) => `${g.state} ×${g.count} (leaked ${g.leaked}, oldest ${(g.oldestAgeMs / 1000).toFixed(1)} s, site ${g.site ?? '-'})`).join('; ')}`,
      `/metrics for ${TASK}:`,
      ...metricLines.map((line) => `  ${line}`),
      `event-loop overload trips (backpressure): ${overloadLines.length === 0 ? 'none' : overloadLines.join(', ')}`,
      `server memory after GC (heapUsed / rss): start ${mib(start.memory.heapUsed)} / ${mib(start.memory.rss)}, middle ${mib(middle.memory.heapUsed)} / ${mib(middle.memory.rss)}, end ${mib(end.memory.heapUsed)} / ${mib(end.memory.rss)}`,
      '/debug/tasks?format=text:',
      ...debugText.body.split('\n').map((line) => `  ${line}`),
    ]
    console.log(lines.join('\n'))
  }
} finally {
  const code = await server.stop()
  if (!args.json) console.log(`server stopped (exit ${code})`)
}
