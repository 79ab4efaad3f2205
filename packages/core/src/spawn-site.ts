import { fileURLToPath } from 'node:url'

/** How spawn sites are recorded. */
export type SpawnSiteMode = 'sampled' | 'always' | 'off'

/**
 * A captured, not yet formatted, stack: `Error.captureStackTrace` is cheap next to formatting
 * `.stack` (several times dearer), so formatting waits until someone looks, and happens once per capture.
 */
export interface SiteRef {
  stack?: string | undefined
  resolved?: string | undefined
}

/** Spawns of a name captured exactly before sampling starts. */
const EXACT_SPAWNS = 8
/** After that, one spawn in this many is captured (a power of two)… */
const SAMPLE_EVERY = 256
/** …and at most one per name per this many ms: a capture deep in a request handler costs more than the spawn itself. */
const SAMPLE_SPACING_MS = 1_000
/** Distinct names remembered; past it the table starts over, keeping memory bounded. */
const MAX_NAMES = 10_000
/** Frames captured above `spawn`: enough to climb out of a few wrappers listed in `siteIgnore`. */
const FRAMES = 8

/** This package's sources and build (a source-mapped build reports its frames under src/). */
const OWN_DIRS = ['src/', 'dist/'].map((dir) => fileURLToPath(new URL(`../${dir}`, import.meta.url)))

/** A function whose frame, and every frame inside it, a capture leaves out. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- it only serves as a stack marker
export type CapturedFrom = (...args: any[]) => unknown

interface NameSites {
  count: number
  latest: SiteRef
  latestAt: number
}

/**
 * Records where tasks are spawned from. See `SchedulerOptions.spawnSite` for the modes; in the
 * default `sampled` mode the steady-state cost is one `Map` lookup per spawn.
 */
export class SpawnSites {
  readonly mode: SpawnSiteMode
  readonly #ignore: readonly string[]
  readonly #byName = new Map<string, NameSites>()

  constructor(mode: SpawnSiteMode, ignore: readonly string[]) {
    this.mode = mode
    this.#ignore = ignore
  }

  /**
   * The site reference for a spawn of `name` happening now. `above` is the function the caller
   * called (`spawn`): it and the frames inside it are left out of the capture.
   */
  capture(name: string, above: CapturedFrom, now: number): SiteRef | undefined {
    if (this.mode === 'off') return undefined
    if (this.mode === 'always') return captureStack(above)
    const entry = this.#byName.get(name)
    if (entry === undefined) {
      if (this.#byName.size >= MAX_NAMES) this.#byName.clear()
      const latest = captureStack(above)
      this.#byName.set(name, { count: 1, latest, latestAt: now })
      return latest
    }
    const count = ++entry.count
    if (count <= EXACT_SPAWNS || ((count & (SAMPLE_EVERY - 1)) === 0 && now - entry.latestAt >= SAMPLE_SPACING_MS)) {
      entry.latest = captureStack(above)
      entry.latestAt = now
    }
    return entry.latest
  }

  /** `file:line` of the first frame outside this package, Node internals and `siteIgnore`. */
  resolve(ref: SiteRef): string | undefined {
    if (ref.stack === undefined) return ref.resolved
    const stack = ref.stack
    ref.stack = undefined
    ref.resolved = pickFrame(stack, this.#ignore)
    return ref.resolved
  }
}

function captureStack(above: CapturedFrom): SiteRef {
  const ref: SiteRef = {}
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = FRAMES
  Error.captureStackTrace(ref, above)
  Error.stackTraceLimit = limit
  return ref
}

function pickFrame(stack: string, ignore: readonly string[]): string | undefined {
  const lines = stack.split('\n')
  for (let i = 1; i < lines.length; i++) {
    const location = frameLocation(lines[i]!)
    if (location === undefined) continue
    if (
      location.startsWith('node:') ||
      OWN_DIRS.some((dir) => location.startsWith(dir)) ||
      location.includes('/node_modules/') ||
      ignore.some((fragment) => location.includes(fragment))
    ) {
      continue
    }
    // Group by file:line: two spawns on one line are one site.
    return relativeToCwd(location.replace(/:\d+$/, ''))
  }
  return undefined
}

/** `at fn (file:1:2)` or `at file:1:2` → `file:1:2`. */
function frameLocation(line: string): string | undefined {
  const trimmed = line.trim()
  if (!trimmed.startsWith('at ')) return undefined
  const open = trimmed.lastIndexOf('(')
  let location = open === -1 ? trimmed.slice(3) : trimmed.slice(open + 1, trimmed.endsWith(')') ? -1 : undefined)
  if (location.startsWith('async ')) location = location.slice(6)
  if (location.startsWith('file://')) {
    try {
      const colon = location.search(/:\d+:\d+$/)
      const path = colon === -1 ? location : location.slice(0, colon)
      location = fileURLToPath(path) + (colon === -1 ? '' : location.slice(colon))
    } catch {
      // keep the URL as it is
    }
  }
  return location
}

function relativeToCwd(location: string): string {
  const cwd = process.cwd() + '/'
  return location.startsWith(cwd) ? location.slice(cwd.length) : location
}
