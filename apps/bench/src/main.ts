/**
 * Runs the benchmarks and prints their tables. Usage: `pnpm bench` from the repository root
 * (`node --expose-gc --import tsx src/main.ts` here).
 */
import { cpus } from 'node:os'
import { ablationCost, ABLATIONS } from './ablations.js'
import { CONTENDERS, CONTENDER_LABELS, isAblation } from './contenders.js'
import { assertGcExposed } from './gc.js'
import { measureHeapPerTask, PENDING_SETUPS } from './heap-per-task.js'
import { COMPLETION_METHODS, measureSpawnCost, type SpawnCostByContender, type SpawnCostStats } from './spawn-cost.js'
import { SPAWN_PATTERNS } from './spawn-patterns.js'
import { formatTable } from './table.js'
import { checkTargets } from './targets.js'
import { TASK_KINDS, type TaskKindId } from './task-kinds.js'

const SPAWN_TASKS = 100_000
const CONCURRENCY = 100
const ROUNDS = 7
const WARMUP = 2
const HEAP_TASKS = 100_000
const HEAP_ROUNDS = 3

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

print(`@fastify-tasks/core benchmarks — Node ${process.version} (V8 ${process.versions.v8}), ${cpus().length} CPUs`)
print('Numbers are medians on a noisy shared machine: compare contenders within one run, not across runs.')
print()

const measured = ROUNDS - WARMUP
process.stdout.write(`spawn-to-settle: ${ROUNDS} rounds (${WARMUP} warm-up), contender order rotated each round `)
const spawn = await measureSpawnCost({
  tasks: SPAWN_TASKS,
  concurrency: CONCURRENCY,
  rounds: ROUNDS,
  warmup: WARMUP,
  onRound: () => process.stdout.write('.'),
})
print(' done')
process.stdout.write(`heap per pending task: ${HEAP_ROUNDS} rounds `)
const heap = await measureHeapPerTask({ tasks: HEAP_TASKS, rounds: HEAP_ROUNDS })
print(' done')
print()

print(`1. Spawn-to-settle cost, µs per task: median of ${measured} measured rounds (min–max)`)
print(`   ${SPAWN_TASKS.toLocaleString('en-US')} tasks per batch, concurrency ${CONCURRENCY} (the Set floor is unbounded);`)
print(`   every Scheduler row has maxQueue ${SPAWN_TASKS.toLocaleString('en-US')} and changes at most one default`)
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
print('   Batch completion is detected with:')
for (const id of CONTENDERS) {
  if (isAblation(id)) continue
  print(`   - ${id === 'ours' ? 'Scheduler (every row)' : CONTENDER_LABELS[id]}: ${COMPLETION_METHODS[id]}`)
}
print()

print(`2. Heap per live pending task: median of ${HEAP_ROUNDS} rounds of ${HEAP_TASKS.toLocaleString('en-US')} tasks`)
print()
print(
  formatTable(
    [{ header: 'contender' }, { header: 'bytes/task', align: 'right' }, { header: 'how tasks are kept pending' }],
    CONTENDERS.map((id) => [
      CONTENDER_LABELS[id],
      String(Math.round(heap[id])),
      isAblation(id) ? `as ${CONTENDER_LABELS.ours}` : PENDING_SETUPS[id],
    ]),
  ),
)
print()

print('3. Targets')
print()
print(
  formatTable(
    [{ header: 'target' }, { header: 'workload' }, { header: 'measured', align: 'right' }, { header: 'result' }],
    checkTargets(spawn, heap).map((check) => [check.target, check.workload, check.measured, check.pass ? 'PASS' : 'MISS']),
  ),
)
