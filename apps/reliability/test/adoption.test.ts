import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import {
  getJson,
  getText,
  mib,
  readState,
  runLoad,
  share2xx,
  startServer,
  type AdoptionServer,
  type ServerState,
} from './fixtures/adoption-harness.js'
import { samples } from './helpers.js'

const TASK = 'touch-last-seen'
/**
 * 20 clients against GET /api/user (10 ms of its own work) make about 1 800 requests/s, as in the real
 * app. The load must outlast the time the old slot rule needs to fill both the pool and the queue
 * (100 slots at 2 % hung calls ≈ 5 000 requests, plus 10 000 queued: about 8.5 s at that rate), or a
 * regression would show only as tasks left pending, not as refused requests.
 */
const LOAD = { clients: 20, seconds: 12, maxRequests: 60_000 }
/**
 * A bound on the wait, after the load, for the queue to empty and every hung call to pass its 2 s
 * deadline (a few seconds on a busy machine); a queue that does not move shows as tasks left pending.
 */
const IDLE_BOUND_MS = 30_000

interface GroupRow {
  name: string
  state: string
  site: string | null
  count: number
  leaked: number
}

interface LimitRow {
  name: string
  limit: number | null
  running: number
  waiting: number
  lastChange: unknown
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe('adoption: fire-and-forget work converted to tracked tasks (real processes)', { timeout: 120_000 }, () => {
  let server: AdoptionServer | undefined
  after(async () => {
    // The drain is not under test here: a short grace, then SIGKILL.
    await server?.stop(3_000)
  })

  it('converting fire-and-forget to a tracked task never makes the service worse (2 % hung non-abortable calls)', async (t) => {
    // Default plugin options; the auth hook spawns 'touch-last-seen' with { timeout: 2_000, priority:
    // 'low' } and does not catch the spawn error; 2 % of the fake database's calls never settle and
    // ignore their signal.
    server = await startServer('tracked')
    const { port } = server
    const start = await readState(port)
    const running = runLoad(port, LOAD)
    // A sample halfway through the fixed-length load (not a wait for a state).
    await sleep((LOAD.seconds * 1000) / 2)
    const middle = await readState(port)
    const load = await running

    // Once the queue has emptied and the last hung calls have passed their deadline.
    const end: ServerState = await readState(port, true, IDLE_BOUND_MS)
    const debug = await getJson<{ groups: GroupRow[]; limits: LimitRow[] }>(port, '/debug/tasks')
    const metrics = samples((await getText(port, '/metrics')).body)

    const s = end.summary
    const ok = share2xx(load)
    const completed = s.outcomes['completed'] ?? 0
    const timedOut = s.outcomes['timed_out'] ?? 0
    const hungGroups = debug.groups.filter((g) => g.name === TASK && (g.state === 'aborting' || g.leaked > 0))
    const leakedMetric = metrics.get(`fastify_tasks_leaked_total{task="${TASK}"}`) ?? 0
    const timedOutMetric = metrics.get(`fastify_tasks_finished_total{task="${TASK}",outcome="timed_out"}`) ?? 0
    const concurrency = metrics.get('fastify_tasks_concurrency_max') ?? s.limits.concurrency
    const givenUpCap = s.limits.maxGivenUpPerName

    t.diagnostic(
      `${load.requests} requests from ${LOAD.clients} clients in ${(load.elapsedMs / 1000).toFixed(1)} s (${load.rps} req/s): ` +
        `${(ok * 100).toFixed(1)} % 2xx, by status ${JSON.stringify(load.byStatus)}, non-2xx ${JSON.stringify(load.byCode)}` +
        `${Object.keys(load.errors).length > 0 ? `, errors ${JSON.stringify(load.errors)}` : ''}`,
    )
    t.diagnostic(
      `tasks: spawned ${s.spawned}, completed ${completed} (${((100 * completed) / Math.max(1, s.spawned)).toFixed(1)} %), timed_out ${timedOut}, ` +
        `outcomes ${JSON.stringify(s.outcomes)}, rejected ${JSON.stringify(s.rejected)}, live ${JSON.stringify(s.live)}, leaked ${JSON.stringify(s.leaked)}, ` +
        `limits ${JSON.stringify(s.limits)}; fake db: ${end.db.calls} calls, ${end.db.hung} hung; log lines ${end.logs.lines}`,
    )
    t.diagnostic(`limit of ${TASK} at the end: ${JSON.stringify(debug.limits.find((l) => l.name === TASK) ?? null)}`)
    t.diagnostic(
      `hung tasks shown: /debug/tasks ${hungGroups.map((g) => `${g.state} ×${g.count} (leaked ${g.leaked}) at ${g.site ?? '-'}`).join('; ') || 'none'}; ` +
        `/metrics leaked_total ${leakedMetric}, finished_total{timed_out} ${timedOutMetric}; ` +
        `server heap after GC ${mib(start.memory.heapUsed)} at start, ${mib(middle.memory.heapUsed)} mid-load, ${mib(end.memory.heapUsed)} at the end (rss ${mib(end.memory.rss)})`,
    )

    // The service: the conversion must not turn requests into refusals.
    assert.ok(
      ok >= 0.995,
      `≥ 99.5 % of requests answered 2xx: ${(ok * 100).toFixed(2)} % of ${load.requests} (${JSON.stringify(load.byCode)})`,
    )
    // The tasks: all but the hung ones (2 % by design) complete.
    assert.ok(s.spawned > 0, 'tasks were admitted')
    assert.ok(completed >= 0.95 * s.spawned, `≥ 95 % of admitted tasks completed: ${completed} of ${s.spawned}`)
    // The hung ones are visible: counted, grouped by name and spawn site, and in the metrics.
    assert.ok(
      s.live.aborting + s.leaked.live + s.leaked.total + timedOut > 0,
      `the summary counts the hung tasks (aborting ${s.live.aborting}, leaked ${JSON.stringify(s.leaked)}, timed_out ${timedOut})`,
    )
    assert.ok(hungGroups.length > 0, `/debug/tasks groups the hung tasks under '${TASK}'`)
    assert.ok(
      hungGroups.every((g) => g.site?.includes('adoption-server.ts') === true),
      `… with their spawn site (${hungGroups.map((g) => g.site).join(', ')})`,
    )
    assert.ok(
      leakedMetric + timedOutMetric > 0,
      `/metrics counts them for task="${TASK}" (leaked_total ${leakedMetric}, finished_total{outcome="timed_out"} ${timedOutMetric})`,
    )
    // Memory stays bounded: the queue moves, live tasks fit the pool plus the given-up cap, the heap does not grow.
    assert.equal(s.live.pending, 0, 'nothing is left waiting for a slot once the load stopped (the queue moves)')
    assert.ok(
      s.live.total <= concurrency + givenUpCap,
      `live tasks ${s.live.total} ≤ concurrency ${concurrency} + given-up cap ${givenUpCap} (one task name)`,
    )
    const heapBound = middle.memory.heapUsed * 1.5 + 20 * 1048576
    assert.ok(
      end.memory.heapUsed < heapBound,
      `heap at the end ${mib(end.memory.heapUsed)} < 1.5 × mid-load ${mib(middle.memory.heapUsed)} + 20 MiB`,
    )
  })
})
