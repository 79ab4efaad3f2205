/**
 * Runs the benchmarks and prints their tables. Usage: `pnpm bench` from the repository root
 * (`node --expose-gc dist/main.js` here, after `tsc`); `--only <spawn|heap|http|debug|scrape|backpressure|limits|durable>[,…]`
 * runs some parts.
 */
import { cpus } from 'node:os'
import { ablationCost, ABLATIONS } from './ablations.js'
import { BACKGROUND_SETUP } from './background-work.js'
import { measureBackpressure, type BackpressureResult } from './backpressure-latency.js'
import { LIGHT_PATH } from './backpressure-protocol.js'
import {
  BACKPRESSURE_BASELINE,
  BACKPRESSURE_SERVERS,
  BACKPRESSURE_VARIANT_LABELS,
  BACKPRESSURE_VARIANT_SETUPS,
  BACKPRESSURE_VARIANTS,
} from './backpressure-variants.js'
import {
  BACKLOG,
  BASE_MS,
  FIXED_LIMITS,
  PHASES,
  REFILL_MS,
  LIGHT_MS,
  SAMPLE_MS,
  SWEEP_MS,
  SWEEP_WARMUP_MS,
  TAIL_MS,
  TASK_NAME as CAPACITY_TASK_NAME,
} from './capacity-limits.js'
import { CONTENDERS, CONTENDER_LABELS, isAblation } from './contenders.js'
import { measureDebugCost, type DebugCostResult } from './debug-cost.js'
import {
  DURABLE_CONTENDERS,
  DURABLE_LABELS,
  IN_FLIGHT,
  JOBS,
  measureDurable,
  OUR_JOB_OPTIONS,
  WORKER_CONCURRENCY,
  type DurableResult,
} from './durable-backend.js'
import { DEBUG_TASK_VIEWS, DEBUG_VIEWS, DEBUG_VIEW_LABELS, DEBUG_VIEW_URLS, type DebugTaskViewId, type DebugViewId } from './debug-views.js'
import { assertGcExposed } from './gc.js'
import { measureHeapPerTask, PENDING_SETUPS, RUNNING_SETUP, type HeapPerTaskResult } from './heap-per-task.js'
import {
  FAIL_FROM_MS,
  FAIL_UNTIL_MS,
  HEAVY_TAIL_VARIANT_LABELS,
  HEAVY_TAIL_VARIANTS,
  OFFERED_PER_SECOND,
  PRODUCE_MS,
  PRODUCER_TICK_MS,
  SETTLE_MS,
  TASK_NAME as HEAVY_TAIL_TASK_NAME,
  type HeavyTailRun,
} from './heavy-tail-io.js'
import { FAST_MAX_MS, FAST_MIN_MS, SLOW_MAX_MS, SLOW_MIN_MS, SLOW_SHARE } from './heavy-tail-service.js'
import { measureHttpThroughput, type HttpThroughputResult } from './http-throughput.js'
import { HTTP_BASELINE, HTTP_VARIANTS, HTTP_VARIANT_LABELS, HTTP_VARIANT_SETUPS } from './http-variants.js'
import { measureLimits, type LimitsResult } from './limits.js'
import { DEFAULT_SCHEDULER_OPTIONS, QUEUED_SERVER_OPTIONS } from './limits-options.js'
import { LIVE_CONCURRENCY, LIVE_MIX, TASKS_PER_UNIT } from './live-tasks.js'
import { parseParts, PART_LABELS, PARTS, type PartId } from './parts.js'
import { QUEUED_BASELINE, QUEUED_VARIANT_LABELS, QUEUED_VARIANT_SETUPS, QUEUED_VARIANTS } from './queued-variants.js'
import { HTTP_REQUESTS, HTTP_REQUESTS_EACH, measureScrapeCost, SCRAPE_MAX_TASK_NAMES, type ScrapeCostResult } from './scrape-cost.js'
import { MIX_SETUP } from './settled-mix.js'
import {
  COMPLETION_PROMISES,
  measureSpawnCost,
  type SpawnCostByContender,
  type SpawnCostResult,
  type SpawnCostStats,
} from './spawn-cost.js'
import { BURST_TASKS, SPAWN_PATTERNS } from './spawn-patterns.js'
import { median as medianOf } from './median.js'
import { formatTable } from './table.js'
import { checkTargets } from './targets.js'
import { TASK_KINDS, type TaskKindId } from './task-kinds.js'

const CONCURRENCY = 100
const ROUNDS = 13
const WARMUP = 2
const HEAP_TASKS = 100_000
const HEAP_ROUNDS = 3
const HTTP_ROUNDS = 7
const HTTP_CONNECTIONS = 50
const HTTP_PIPELINING = 1
const HTTP_WARMUP_SECONDS = 2
const HTTP_DURATION_SECONDS = 4
const DEBUG_SIZES = [1_000, 10_000, 100_000]
const DEBUG_ROUNDS = 11
const DEBUG_WARMUP = 2
const SCRAPE_NAMES = [10, 200]
const SCRAPE_SCRAPES = 31
const SCRAPE_WARMUP = 3
const SCRAPE_DELAY = 11
const SCRAPE_PROM_CLIENT = 7
const BACKPRESSURE_ROUNDS = 3
const BACKPRESSURE_CONNECTIONS = 10
const BACKPRESSURE_WARMUP_SECONDS = 1
const BACKPRESSURE_DURATION_SECONDS = 3
const LIMITS_HEAVY_TAIL_ROUNDS = 2
const LIMITS_QUEUED_ROUNDS = 5
const LIMITS_QUEUED_CONNECTIONS = 50
const LIMITS_QUEUED_WARMUP_SECONDS = 1
const LIMITS_QUEUED_DURATION_SECONDS = 2
const DURABLE_ROUNDS = 7
const DURABLE_WARMUP = 1

let parts: ReadonlySet<PartId>
try {
  parts = parseParts(process.argv.slice(2))
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(2)
}
assertGcExposed()

const print = (text = ''): void => {
  process.stdout.write(`${text}\n`)
}
const us = (value: number): string => value.toFixed(3)
const spread = (stats: SpawnCostStats): string => `${us(stats.min)}–${us(stats.max)}`
/** With an explicit sign; a value that rounds to zero gets none. */
const signed = (value: number): string => {
  const magnitude = us(Math.abs(value))
  return Number(magnitude) === 0 ? magnitude : `${value < 0 ? '−' : '+'}${magnitude}`
}

print(`fastify-tasks benchmarks — Node ${process.version} (V8 ${process.versions.v8}), ${cpus().length} CPUs`)
print(
  `Parts: ${PARTS.filter((part) => parts.has(part))
    .map((part) => PART_LABELS[part])
    .join(', ')}`,
)
print('Numbers are medians on a noisy shared machine: compare contenders within one run, not across runs.')
print()

const measured = ROUNDS - WARMUP
let spawn: SpawnCostResult | undefined
let heap: HeapPerTaskResult | undefined
let http: HttpThroughputResult | undefined
let debug: DebugCostResult | undefined
let scrape: ScrapeCostResult | undefined
let backpressure: BackpressureResult | undefined
let limits: LimitsResult | undefined
let durable: DurableResult | undefined
if (parts.has('spawn')) {
  process.stdout.write(`spawn-to-settle: ${ROUNDS} rounds (${WARMUP} warm-up), contender order rotated each round `)
  spawn = await measureSpawnCost({
    concurrency: CONCURRENCY,
    rounds: ROUNDS,
    warmup: WARMUP,
    onRound: () => process.stdout.write('.'),
  })
  print(' done')
}
if (parts.has('heap')) {
  process.stdout.write(`heap per live task: ${HEAP_ROUNDS} rounds `)
  heap = await measureHeapPerTask({ tasks: HEAP_TASKS, rounds: HEAP_ROUNDS })
  print(' done')
}
if (parts.has('http')) {
  process.stdout.write(`HTTP throughput: ${HTTP_ROUNDS} rounds × ${HTTP_VARIANTS.length} variants, order rotated each round `)
  http = await measureHttpThroughput({
    rounds: HTTP_ROUNDS,
    connections: HTTP_CONNECTIONS,
    pipelining: HTTP_PIPELINING,
    warmupSeconds: HTTP_WARMUP_SECONDS,
    durationSeconds: HTTP_DURATION_SECONDS,
    onMeasurement: () => process.stdout.write('.'),
  })
  print(' done')
}
if (parts.has('debug')) {
  process.stdout.write(`/debug/tasks: ${DEBUG_SIZES.length} population sizes × ${DEBUG_ROUNDS} rounds (${DEBUG_WARMUP} warm-up) `)
  debug = await measureDebugCost({
    sizes: DEBUG_SIZES,
    rounds: DEBUG_ROUNDS,
    warmup: DEBUG_WARMUP,
    onSize: () => process.stdout.write('.'),
  })
  print(' done')
}
if (parts.has('scrape')) {
  process.stdout.write(`/metrics: ${SCRAPE_NAMES.length} apps × ${SCRAPE_SCRAPES} scrapes (${SCRAPE_WARMUP} warm-up) `)
  scrape = await measureScrapeCost({
    names: SCRAPE_NAMES,
    scrapes: SCRAPE_SCRAPES,
    warmup: SCRAPE_WARMUP,
    delayScrapes: SCRAPE_DELAY,
    promClientScrapes: SCRAPE_PROM_CLIENT,
    onApp: () => process.stdout.write('.'),
  })
  print(' done')
}
if (parts.has('backpressure')) {
  process.stdout.write(
    `background work: ${BACKPRESSURE_ROUNDS} rounds × ${BACKPRESSURE_VARIANTS.length} variants, order rotated each round `,
  )
  backpressure = await measureBackpressure({
    rounds: BACKPRESSURE_ROUNDS,
    connections: BACKPRESSURE_CONNECTIONS,
    warmupSeconds: BACKPRESSURE_WARMUP_SECONDS,
    durationSeconds: BACKPRESSURE_DURATION_SECONDS,
    onMeasurement: () => process.stdout.write('.'),
  })
  print(' done')
}
if (parts.has('limits')) {
  process.stdout.write(
    `limits: heavy-tail I/O ${LIMITS_HEAVY_TAIL_ROUNDS} rounds, capacity ${FIXED_LIMITS.length * new Set(PHASES.map((p) => p.capacity)).size} fixed limits and a run, ` +
      `queued server ${LIMITS_QUEUED_ROUNDS} rounds `,
  )
  limits = await measureLimits({
    heavyTailRounds: LIMITS_HEAVY_TAIL_ROUNDS,
    queuedRounds: LIMITS_QUEUED_ROUNDS,
    queuedConnections: LIMITS_QUEUED_CONNECTIONS,
    queuedWarmupSeconds: LIMITS_QUEUED_WARMUP_SECONDS,
    queuedDurationSeconds: LIMITS_QUEUED_DURATION_SECONDS,
    onStep: () => process.stdout.write('.'),
  })
  print(' done')
}
if (parts.has('durable')) {
  process.stdout.write(
    `BullMQ backend: ${DURABLE_ROUNDS} rounds (${DURABLE_WARMUP} warm-up) × ${DURABLE_CONTENDERS.length} contenders, order rotated each round `,
  )
  durable = await measureDurable(DURABLE_ROUNDS, DURABLE_WARMUP)
  print(' done')
}
print()

function printSpawnCost(spawn: SpawnCostResult): void {
  print(`1. Spawn-to-settle cost, µs per task: median of ${measured} measured rounds (min–max)`)
  print(`   Concurrency ${CONCURRENCY} (the Set floor is unbounded); every Scheduler row has maxQueue`)
  print(`   ${BURST_TASKS.toLocaleString('en-US')} and changes at most one default. Contenders in one process, order rotated each round.`)
  for (const [index, pattern] of SPAWN_PATTERNS.entries()) {
    const costs = (kind: TaskKindId): SpawnCostByContender => spawn[pattern.id][kind]
    print()
    print(`1${String.fromCharCode(97 + index)}. ${pattern.label}: ${pattern.description}`)
    print()
    print(
      formatTable(
        [
          { header: 'contender' },
          ...TASK_KINDS.flatMap((kind) => [
            { header: `${kind.label} µs`, align: 'right' as const },
            { header: 'min–max', align: 'right' as const },
          ]),
        ],
        CONTENDERS.map((id) => [
          CONTENDER_LABELS[id],
          ...TASK_KINDS.flatMap((kind) => [us(costs(kind.id)[id].median), spread(costs(kind.id)[id])]),
        ]),
      ),
    )
    print()
    print(`   Per-task cost of each default (${pattern.label}), µs: difference of the medians above. A difference`)
    print('   smaller than the min–max spread of its two rows is noise, and may then be negative.')
    print()
    print(
      formatTable(
        [{ header: 'feature' }, ...TASK_KINDS.map((kind) => ({ header: `${kind.label} µs`, align: 'right' as const }))],
        ABLATIONS.map((ablation) => [
          ablation.feature,
          ...TASK_KINDS.map((kind) => signed(ablationCost(ablation, (variant) => costs(kind.id)[variant].median))),
        ]),
      ).replace(/^/gm, '   '),
    )
  }
  print()
  print('   The promise awaited per task:')
  for (const id of CONTENDERS) {
    if (isAblation(id)) continue
    print(`   - ${id === 'ours' ? 'Scheduler (every row)' : CONTENDER_LABELS[id]}: ${COMPLETION_PROMISES[id]}`)
  }
  print()
}

function printHeapPerTask(heap: HeapPerTaskResult): void {
  print(`2. Heap per live task: median of ${HEAP_ROUNDS} rounds of ${HEAP_TASKS.toLocaleString('en-US')} tasks, pending and running`)
  print()
  print(
    formatTable(
      [
        { header: 'contender' },
        { header: 'pending B/task', align: 'right' },
        { header: 'running B/task', align: 'right' },
        { header: 'how tasks are kept pending' },
      ],
      CONTENDERS.map((id) => [
        CONTENDER_LABELS[id],
        String(Math.round(heap.pending[id])),
        String(Math.round(heap.running[id])),
        isAblation(id) ? `as ${CONTENDER_LABELS.ours}` : PENDING_SETUPS[id],
      ]),
    ),
  )
  print()
  print(`   Running: ${RUNNING_SETUP}.`)
  print()
}

const ms = (value: number): string => value.toFixed(2)
const share = (value: number): string => `${(value * 100).toFixed(1)} %`

function printHttpThroughput(http: HttpThroughputResult): void {
  print(`3. HTTP throughput of a Fastify hello world: median of ${HTTP_ROUNDS} rounds (min–max)`)
  print(`   autocannon, ${HTTP_CONNECTIONS} connections, pipelining ${HTTP_PIPELINING}: ${HTTP_WARMUP_SECONDS} s warm-up (discarded), then`)
  print(`   ${HTTP_DURATION_SECONDS} s measured. Server and load generator in two child processes on 127.0.0.1, a new`)
  print('   server for every measurement; each round measures every variant once, order rotated.')
  print()
  print(
    formatTable(
      [
        { header: 'variant' },
        { header: 'req/s', align: 'right' },
        { header: 'min–max', align: 'right' },
        { header: 'vs plain', align: 'right' },
        { header: 'p50 ms', align: 'right' },
        { header: 'p99 ms', align: 'right' },
      ],
      HTTP_VARIANTS.map((id) => [
        HTTP_VARIANT_LABELS[id],
        Math.round(http[id].rps).toLocaleString('en-US'),
        `${Math.round(http[id].rpsMin).toLocaleString('en-US')}–${Math.round(http[id].rpsMax).toLocaleString('en-US')}`,
        share(http[id].ratioToBaseline),
        ms(http[id].p50Ms),
        ms(http[id].p99Ms),
      ]),
    ),
  )
  print()
  print('   vs plain: median of the per-round ratios (req/s ÷ plain Fastify’s req/s in the same round).')
  print('   p50/p99: median over the rounds of each run’s latency percentiles (10 µs buckets).')
  print()
  print('   Server CPU time (user + system) over the measured window ÷ 2xx responses, µs per request.')
  print('   added: median of the per-round differences from plain Fastify. busy: share of one core used')
  print('   during the window; a server well under 100 % busy was held back (load generator, other load).')
  print()
  print(
    formatTable(
      [
        { header: 'variant' },
        { header: 'server µs/req', align: 'right' },
        { header: 'added µs/req', align: 'right' },
        { header: 'added min to max', align: 'right' },
        { header: 'server busy', align: 'right' },
        { header: 'load gen busy', align: 'right' },
      ],
      HTTP_VARIANTS.map((id) => [
        HTTP_VARIANT_LABELS[id],
        us(http[id].serverCpuUs),
        id === HTTP_BASELINE ? '' : signed(http[id].addedCpuUs),
        id === HTTP_BASELINE ? '' : `${signed(http[id].addedCpuUsMin)} to ${signed(http[id].addedCpuUsMax)}`,
        share(http[id].serverBusy),
        share(http[id].loaderBusy),
      ]),
    ).replace(/^/gm, '   '),
  )
  print()
  print('   Servers:')
  for (const id of HTTP_VARIANTS) print(`   - ${HTTP_VARIANT_LABELS[id]}: ${HTTP_VARIANT_SETUPS[id]}`)
  print()
}

const count = (value: number): string => value.toLocaleString('en-US')

const isTaskView = (id: DebugViewId): id is DebugTaskViewId => (DEBUG_TASK_VIEWS as readonly string[]).includes(id)

function printDebugCost(debug: DebugCostResult): void {
  const measuredRounds = DEBUG_ROUNDS - DEBUG_WARMUP
  print(`4. GET /debug/tasks with many live tasks: median of ${measuredRounds} rounds (min–max), in-process (app.inject)`)
  print(`   One app (logger off; concurrency ${count(LIVE_CONCURRENCY)}, maxQueue 200 000, timeout Infinity, backpressure off)`)
  print('   whose live tasks never settle on their own; the population grows from one size to the next. Each')
  print("   round requests every view once, order rotated. bytes: median body size. ÷ grouped: a page's time")
  print("   over the grouped view's (JSON) in the same round, median over the rounds.")
  print()
  print(
    formatTable(
      [
        { header: 'live tasks', align: 'right' },
        { header: 'groups', align: 'right' },
        { header: 'view' },
        { header: 'ms', align: 'right' },
        { header: 'min–max', align: 'right' },
        { header: 'bytes', align: 'right' },
        { header: '÷ grouped', align: 'right' },
      ],
      debug.flatMap((size) =>
        DEBUG_VIEWS.map((id, i) => [
          i === 0 ? `${count(size.tasks)} (${count(size.running)} running)` : '',
          i === 0 ? String(size.groups) : '',
          DEBUG_VIEW_LABELS[id],
          ms(size.views[id].ms),
          `${ms(size.views[id].msMin)}–${ms(size.views[id].msMax)}`,
          count(size.views[id].bytes),
          isTaskView(id) ? `${size.toGroups[id].toFixed(2)}×` : '',
        ]),
      ),
    ),
  )
  print()
  print('   Views:')
  for (const id of DEBUG_VIEWS) print(`   - ${DEBUG_VIEW_LABELS[id]}: GET ${DEBUG_VIEW_URLS[id]}`)
  print(`   Live tasks, in units of ${TASKS_PER_UNIT} (every task rejects when its signal aborts):`)
  for (const line of LIVE_MIX) print(`   - ${line}`)
  print('   At the end every task is cancelled (cancelWhere) and the app closed with drainTimeout 0.')
  print()
}

function printScrapeCost(scrape: ScrapeCostResult): void {
  print(`5. GET /metrics scrape: median of ${SCRAPE_SCRAPES} scrapes (min–max) after ${SCRAPE_WARMUP} warm-up, in-process (app.inject)`)
  print(`   A fresh app per row: logger off, fastify-tasks defaults but metrics.maxTaskNames ${SCRAPE_MAX_TASK_NAMES}, so no name`)
  print('   is folded into __other__. ms: to the last byte of the body, read as a stream (not decoded: the')
  print('   client’s work). bytes and samples (lines that are not # comments): the last exposition.')
  print()
  print(
    formatTable(
      [
        { header: 'task names', align: 'right' },
        { header: 'ms', align: 'right' },
        { header: 'min–max', align: 'right' },
        { header: 'loop delay ms', align: 'right' },
        { header: 'max', align: 'right' },
        { header: 'bytes', align: 'right' },
        { header: 'samples', align: 'right' },
        { header: 'prom-client ms', align: 'right' },
        { header: 'its loop delay', align: 'right' },
      ],
      scrape.map((app) => [
        String(app.names),
        ms(app.ms),
        `${ms(app.msMin)}–${ms(app.msMax)}`,
        ms(app.loopDelayMs),
        ms(app.loopDelayMaxMs),
        count(app.bytes),
        count(app.samples),
        ms(app.promClientMs),
        ms(app.promClientLoopDelayMs),
      ]),
    ),
  )
  print()
  print(`   loop delay: the longest event-loop delay (monitorEventLoopDelay, 1 ms resolution) during each of ${SCRAPE_DELAY} more`)
  print('   scrapes, read the same way: the median, and the largest (max).')
  print(`   prom-client: its registry.metrics() of the same registry, ${SCRAPE_PROM_CLIENT} calls after the scrapes and a forced GC (its`)
  print('   fastify-tasks series checked against the route’s): what serving the registry without the route costs; medians.')
  print()
  print('   Tasks per name, spawned with app.tasks.spawn (concurrency 100), all settled before scraping:')
  for (const line of MIX_SETUP) print(`   - ${line}`)
  print(
    `   Then, before scraping, ${HTTP_REQUESTS_EACH} of each request: ${HTTP_REQUESTS.map((r) => `${r.method} ${r.url} (${r.status})`).join(', ')}.`,
  )
  print()
}

function printBackpressure(result: BackpressureResult): void {
  print(`6. GET ${LIGHT_PATH} next to CPU-heavy background tasks: median of ${BACKPRESSURE_ROUNDS} rounds`)
  print(
    `   autocannon, ${BACKPRESSURE_CONNECTIONS} connections, pipelining 1: ${BACKPRESSURE_WARMUP_SECONDS} s warm-up (discarded), then ${BACKPRESSURE_DURATION_SECONDS} s measured.`,
  )
  print('   Server and load generator in two child processes on 127.0.0.1, a new server for every')
  print('   measurement; each round measures every variant once, order rotated.')
  print()
  print(
    formatTable(
      [
        { header: 'variant' },
        { header: 'req/s', align: 'right' },
        { header: 'p50 ms', align: 'right' },
        { header: 'p99 ms', align: 'right' },
        { header: 'p99 vs (a)', align: 'right' },
        { header: 'loop delay p99 ms', align: 'right' },
        { header: 'max ms', align: 'right' },
        { header: 'loop busy', align: 'right' },
      ],
      BACKPRESSURE_VARIANTS.map((id) => {
        const { median } = result[id]
        return [
          BACKPRESSURE_VARIANT_LABELS[id],
          Math.round(median.rps).toLocaleString('en-US'),
          ms(median.p50Ms),
          ms(median.p99Ms),
          id === BACKPRESSURE_BASELINE ? '' : `${result[id].p99ToBaseline.toFixed(2)}×`,
          ms(median.delayP99Ms),
          ms(median.delayMaxMs),
          share(median.utilization),
        ]
      }),
    ),
  )
  print()
  print('   p50/p99: request latency, median over the rounds of each run’s percentiles (10 µs buckets).')
  print('   p99 vs (a): median of the per-round ratios to (a)’s p99. The load is closed-loop: a connection')
  print('   waits for its answer, so a block of the loop delays one request per connection, and requests')
  print('   that would have arrived during it are not sent. loop delay: how late the server’s own 1 ms')
  print('   event-loop delay timer (monitorEventLoopDelay) ran over the measured window, in ms; a block')
  print('   is one late run, one sample. loop busy: event-loop utilization over the window.')
  print()
  print('   Background tasks over the measured window, per second (medians); waiting and limit: at its end.')
  print()
  print(
    formatTable(
      [
        { header: 'variant' },
        { header: 'offered/s', align: 'right' },
        { header: 'completed/s', align: 'right' },
        { header: 'fewest completed', align: 'right' },
        { header: 'shed/s', align: 'right' },
        { header: 'deferred/s', align: 'right' },
        { header: 'waiting', align: 'right' },
        { header: 'limit', align: 'right' },
      ],
      BACKPRESSURE_VARIANTS.map((id) => {
        const { median } = result[id]
        const one = (value: number): string => value.toFixed(1)
        return [
          BACKPRESSURE_VARIANT_LABELS[id],
          one(median.offeredPerSecond),
          one(median.completedPerSecond),
          count(result[id].completedMin),
          one(median.shedPerSecond),
          one(median.deferredPerSecond),
          count(Math.round(median.pending)),
          String(median.concurrency),
        ]
      }),
    ).replace(/^/gm, '   '),
  )
  print()
  print('   fewest completed: in one measured window. shed: spawns refused (OverloadedError or')
  print('   QueueFullError); deferred: spawns queued by the admission check while overloaded.')
  print()
  print(`   Every server: Fastify (logger off), GET ${LIGHT_PATH} returns a small JSON object at once. Background work:`)
  for (const line of BACKGROUND_SETUP) print(`   - ${line}`)
  print('   Servers (fastify-tasks options as JSON):')
  for (const id of BACKPRESSURE_VARIANTS) {
    print(`   - ${BACKPRESSURE_VARIANT_LABELS[id]}: ${BACKPRESSURE_VARIANT_SETUPS[id]}`)
    print(`     ${JSON.stringify(BACKPRESSURE_SERVERS[id].options)}`)
  }
  print()
}

const sec = (ms: number): string => `${ms / 1000} s`
const ms3 = (value: number): string => value.toFixed(3)
const tenths = (value: number): string => value.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })

function printHeavyTail(result: LimitsResult['heavyTail']): void {
  print(`7a. Heavy-tail I/O: median of ${LIMITS_HEAVY_TAIL_ROUNDS} runs per variant, one run of each per round, order rotated each round`)
  print(
    `   A simulated service: ${share(1 - SLOW_SHARE)} of calls take ${FAST_MIN_MS}–${FAST_MAX_MS} ms, ${share(SLOW_SHARE)} take ${sec(SLOW_MIN_MS)}–${sec(SLOW_MAX_MS)} (uniform, one`,
  )
  print(
    `   seeded sequence in call order); every call made from ${sec(FAIL_FROM_MS)} to ${sec(FAIL_UNTIL_MS)} is rejected after its usual latency. Calls`,
  )
  print(
    `   honour an AbortSignal. A producer offers ${count(OFFERED_PER_SECOND)} calls/s for ${sec(PRODUCE_MS)} (a ${PRODUCER_TICK_MS} ms timer offers those due).`,
  )
  print(`   The run ends when every call has settled, at most ${sec(SETTLE_MS)} after the last offer; calls settled later are not`)
  print('   counted (the scheduler is then closed with timeout 0: what waits is dropped, what runs is aborted).')
  print('   untracked: void service.call().then(…, …) per offer; scheduler: new Scheduler() with the options below,')
  print(`   scheduler.spawn('${HEAVY_TAIL_TASK_NAME}', (ctx) => service.call(ctx.signal)) per offer (an AdmissionError counts as refused).`)
  print()
  const median = (run: (r: HeavyTailRun) => number, variant: (typeof HEAVY_TAIL_VARIANTS)[number]): string =>
    count(medianOf(result.runs[variant].map(run)))
  const atLeast = (flag: boolean): string => (flag ? '≥ ' : '')
  print(
    formatTable(
      [
        { header: 'variant' },
        { header: 'completed', align: 'right' },
        { header: 'failed', align: 'right' },
        { header: 'refused', align: 'right' },
        { header: 'never started', align: 'right' },
        { header: 'unsettled at end', align: 'right' },
        { header: 'spawn→start p50 ms', align: 'right' },
        { header: 'p99 ms', align: 'right' },
      ],
      HEAVY_TAIL_VARIANTS.map((variant) => [
        HEAVY_TAIL_VARIANT_LABELS[variant],
        median((r) => r.completed, variant),
        median((r) => r.failed, variant),
        median((r) => r.refused, variant),
        median((r) => r.neverStarted, variant),
        median((r) => r.unsettled, variant),
        variant === 'scheduler' ? `${atLeast(result.waitP50AtLeast)}${tenths(result.waitP50Ms)}` : '',
        variant === 'scheduler' ? `${atLeast(result.waitP99AtLeast)}${tenths(result.waitP99Ms)}` : '',
      ]),
    ),
  )
  print()
  const { completedRatio: ratio } = result
  print(
    `   completed through the scheduler ÷ untracked, per round: median ${share(ratio.median)} (${share(ratio.min)}–${share(ratio.max)}).`,
  )
  print('   failed: rejected (the service was down when the call was made, or the call was aborted). never started:')
  print('   admitted, still waiting when the run ended. spawn→start: the started event’s queueWaitMs, median over the')
  print('   runs of each run’s p50 and p99 over every admitted task; one never started counts as its wait so far, and')
  print('   ≥ marks a figure such waits may have held down (a lower bound).')
  print(`   Scheduler options: ${JSON.stringify(DEFAULT_SCHEDULER_OPTIONS)} (the defaults).`)
  print()
}

function printCapacity(result: LimitsResult['capacity']): void {
  print('7b. A dependency of limited capacity: fixed limits, then the default options while the capacity changes')
  print(`   A simulated dependency serves up to its capacity at once, each call for ${BASE_MS} ms; more calls wait in its own`)
  print(`   FIFO, and a call that starts while more than the capacity are in it is served for ${2 * BASE_MS} ms: throughput is`)
  print(`   highest with exactly the capacity in flight. Tasks of one name ('${CAPACITY_TASK_NAME}'), each one call honouring its signal;`)
  print(`   ${BACKLOG} more than the limit kept in the scheduler (topped up every ${REFILL_MS} ms), so its queue never empties.`)
  print()
  print(
    `   Fixed limits, new Scheduler({ limits: { perName: n } }): calls completed per second over ${sec(SWEEP_MS)}, after ${SWEEP_WARMUP_MS} ms not counted.`,
  )
  print('   * the limit of highest throughput at that capacity (the maximizing limit).')
  print()
  const mark = (sweep: (typeof result.sweeps)[number], i: number): string => {
    const point = sweep.points[i]!
    return `${point.limit}${point === sweep.best ? ' *' : ''}`
  }
  print(
    formatTable(
      result.sweeps.flatMap((sweep) => [
        { header: `limit (capacity ${sweep.capacity})`, align: 'right' as const },
        { header: 'calls/s', align: 'right' as const },
      ]),
      FIXED_LIMITS.map((_, i) =>
        result.sweeps.flatMap((sweep) => [mark(sweep, i), Math.round(sweep.points[i]!.perSecond).toLocaleString('en-US')]),
      ),
    ).replace(/^/gm, '   '),
  )
  print()
  print(
    `   Default options: ${sec(LIGHT_MS)} of light load (a quarter of the capacity in flight: the baseline is learned unsaturated), then ` +
      `${PHASES.map((phase) => `capacity ${phase.capacity} for ${sec(phase.ms)}`).join(', then ')}; the name’s limit read every ${SAMPLE_MS} ms.`,
  )
  print(`   Over each phase’s last ${sec(TAIL_MS)}: the limit’s median and range, and calls completed per second.`)
  print()
  print(
    formatTable(
      [
        { header: 'phase' },
        { header: 'capacity', align: 'right' },
        { header: 'limit', align: 'right' },
        { header: 'min–max', align: 'right' },
        { header: 'best fixed', align: 'right' },
        { header: 'calls/s', align: 'right' },
        { header: 'best fixed calls/s', align: 'right' },
        { header: 'share', align: 'right' },
      ],
      result.phases.map((phase) => [
        `${phase.label} (${sec(phase.ms)})`,
        String(phase.capacity),
        String(phase.limit),
        `${phase.limitMin}–${phase.limitMax}`,
        String(phase.best.limit),
        Math.round(phase.perSecond).toLocaleString('en-US'),
        Math.round(phase.best.perSecond).toLocaleString('en-US'),
        share(phase.perSecond / phase.best.perSecond),
      ]),
    ).replace(/^/gm, '   '),
  )
  print()
}

function printQueued(result: LimitsResult['queued']): void {
  print(`7c. GET / next to a full scheduler: median of ${LIMITS_QUEUED_ROUNDS} rounds`)
  print(
    `   autocannon, ${LIMITS_QUEUED_CONNECTIONS} connections, pipelining 1: ${LIMITS_QUEUED_WARMUP_SECONDS} s warm-up (discarded), then ${LIMITS_QUEUED_DURATION_SECONDS} s measured; latency`,
  )
  print('   percentiles from 1 µs buckets. Server and load generator in two child processes on 127.0.0.1, a new server')
  print('   for every measurement; each round measures every variant once, order rotated.')
  print()
  print(
    formatTable(
      [
        { header: 'variant' },
        { header: 'req/s', align: 'right' },
        { header: 'p50 ms', align: 'right' },
        { header: 'p99 ms', align: 'right' },
        { header: 'p99 vs empty', align: 'right' },
        { header: 'min–max', align: 'right' },
        { header: 'server µs/req', align: 'right' },
        { header: 'waiting', align: 'right' },
        { header: 'running', align: 'right' },
      ],
      QUEUED_VARIANTS.map((id) => {
        const { median, p99Ratio } = result[id]
        const baseline = id === QUEUED_BASELINE
        return [
          QUEUED_VARIANT_LABELS[id],
          Math.round(median.rps).toLocaleString('en-US'),
          ms3(median.p50Ms),
          ms3(median.p99Ms),
          baseline ? '' : `${p99Ratio.median.toFixed(3)}×`,
          baseline ? '' : `${p99Ratio.min.toFixed(3)}×–${p99Ratio.max.toFixed(3)}×`,
          us(median.serverCpuUs),
          count(median.pending),
          count(median.running),
        ]
      }),
    ),
  )
  print()
  const rounds = result[QUEUED_BASELINE].samples.map((empty, round) => {
    const queued = result.queued.samples[round]!
    return `${ms3(empty.p99Ms)} / ${ms3(queued.p99Ms)}`
  })
  print(`   p99 ms per round, empty / queued: ${rounds.join(', ')}.`)
  print('   p99 vs empty: median (and range) of the per-round ratios to the empty server’s p99. server µs/req: its CPU')
  print('   time (user + system) over the window ÷ responses. waiting, running: the tasks at the window’s end.')
  print(`   Every server: Fastify (logger off), GET / returns { hello: 'world' }; fastify-tasks registered with`)
  print(`   ${JSON.stringify(QUEUED_SERVER_OPTIONS)}, its defaults otherwise.`)
  for (const id of QUEUED_VARIANTS) print(`   - ${QUEUED_VARIANT_LABELS[id]}: ${QUEUED_VARIANT_SETUPS[id]}`)
  print()
}

function printLimits(result: LimitsResult): void {
  print('7. Limits on running tasks: I/O-bound tasks and the scheduler’s limit, with its default options')
  print()
  printHeavyTail(result.heavyTail)
  printCapacity(result.capacity)
  printQueued(result.queued)
}

if (spawn !== undefined) printSpawnCost(spawn)
if (heap !== undefined) printHeapPerTask(heap)
if (http !== undefined) printHttpThroughput(http)
if (debug !== undefined) printDebugCost(debug)
if (scrape !== undefined) printScrapeCost(scrape)
if (backpressure !== undefined) printBackpressure(backpressure)
if (limits !== undefined) printLimits(limits)
if (durable !== undefined) printDurable(durable)

function printDurable(result: DurableResult): void {
  print(`8. The BullMQ backend against raw BullMQ: ${JOBS} jobs per round, ${IN_FLIGHT} adds awaited at once, worker`)
  print(
    `   concurrency ${WORKER_CONCURRENCY}, producer and worker in this process, a private redis-server; medians of ${DURABLE_ROUNDS} rounds.`,
  )
  print(
    '   Latency: one queue.add (raw) or one await spawn(…).admitted (ours, in memory). Round trips: commands sent, counted on the client.',
  )
  print('   CPU µs/job: this process (producer and worker) over the measured window, per job; Redis runs in its own process.')
  print(`   Our job options: ${OUR_JOB_OPTIONS}.`)
  print()
  const med = (values: readonly number[]): number => medianOf(values)
  print(
    formatTable(
      [
        { header: 'contender' },
        { header: 'jobs/s', align: 'right' },
        { header: 'add p50 ms', align: 'right' },
        { header: 'add p99 ms', align: 'right' },
        { header: 'round trips/job', align: 'right' },
        { header: 'CPU µs/job', align: 'right' },
      ],
      DURABLE_CONTENDERS.map((id) => [
        DURABLE_LABELS[id],
        med(result[id].map((r) => r.jobsPerSecond)).toFixed(0),
        med(result[id].map((r) => r.p50)).toFixed(3),
        med(result[id].map((r) => r.p99)).toFixed(3),
        id === 'memory' ? '-' : med(result[id].map((r) => r.commandsPerJob)).toFixed(1),
        med(result[id].map((r) => r.cpuPerJobUs)).toFixed(1),
      ]),
    ),
  )
  print()
}

print('9. Targets')
print()
print(
  formatTable(
    [{ header: 'target' }, { header: 'workload' }, { header: 'measured', align: 'right' }, { header: 'result' }],
    checkTargets({ spawn, heap, http, debug, scrape, backpressure, limits, durable }).map((check) => [
      check.target,
      check.workload,
      check.measured,
      check.pass ? 'PASS' : 'MISS',
    ]),
  ),
)
