/** The benchmark's parts, and the `--only` option that picks some of them. */
export const PARTS = ['spawn', 'heap', 'http', 'debug', 'scrape', 'backpressure', 'limits', 'durable'] as const

export type PartId = (typeof PARTS)[number]

export const PART_LABELS: Readonly<Record<PartId, string>> = {
  spawn: 'spawn-to-settle cost',
  heap: 'heap per live pending task',
  http: 'HTTP throughput',
  debug: '/debug/tasks cost',
  scrape: '/metrics scrape cost',
  backpressure: 'request latency under background work',
  limits: 'limits on running tasks',
  durable: 'the BullMQ backend against raw BullMQ',
}

export const USAGE = `usage: main.ts [--only <${PARTS.join('|')}>[,…]] (repeatable; default: every part)`

function isPart(value: string): value is PartId {
  return (PARTS as readonly string[]).includes(value)
}

/**
 * The parts to run, from command-line arguments: `--only http`, `--only=spawn,heap`, `--only` more
 * than once; every part without `--only`. A bare `--` (as some `pnpm` versions pass on) is skipped.
 * Throws with `USAGE` on anything else.
 */
export function parseParts(args: readonly string[]): ReadonlySet<PartId> {
  const only: string[] = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === '--') continue
    if (arg === '--only' && i + 1 < args.length) only.push(args[++i]!)
    else if (arg.startsWith('--only=')) only.push(arg.slice('--only='.length))
    else throw new Error(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`)
  }
  if (only.length === 0) return new Set(PARTS)
  const picked = new Set<PartId>()
  for (const name of only.flatMap((list) => list.split(','))) {
    if (!isPart(name)) throw new Error(`unknown part ${JSON.stringify(name)}\n${USAGE}`)
    picked.add(name)
  }
  return picked
}
