/**
 * A named task's payload and result as JSON. They cross a process boundary on a durable backend
 * (and a thread on a worker), so they are JSON on every backend, the in-memory one too: a `Date` or
 * a `Map` that worked in memory would arrive changed from Redis. Values that JSON would change are
 * refused, with where and why.
 *
 * The value is read once, and written as it is read: a getter runs once, and what is checked is
 * what is written (`JSON.stringify` after a separate check could meet a getter that changed its mind).
 */

/** Where a value is not JSON, and what was found there. */
export interface JsonProblem {
  /** The place, as code would reach it from `root`: `payload.items[2].at`. */
  readonly path: string
  /** What was found: `a Date`, `NaN`, `a function`… */
  readonly found: string
  /** What JSON would make of it, and what to pass instead. */
  readonly advice: string
}

/** What {@link encodeJson} made of a value. */
export type JsonEncoding =
  | { readonly json: string; readonly problem?: undefined; readonly longerThan?: undefined }
  | { readonly problem: JsonProblem; readonly json?: undefined; readonly longerThan?: undefined }
  /** Stopped once the text passed `maxLength` characters: the value is at least that long as JSON. */
  | { readonly longerThan: number; readonly json?: undefined; readonly problem?: undefined }

/** Deeper nesting than this is refused (a guard against runaway structures and deep recursion). */
export const MAX_JSON_DEPTH = 256

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/

/** Advice for the values people most often pass by mistake, by constructor name. */
const ADVICE: Readonly<Record<string, string>> = {
  Date: 'JSON makes it a string: pass date.toISOString()',
  Map: 'JSON makes it {}: pass Object.fromEntries(map)',
  Set: 'JSON makes it {}: pass [...set]',
  Buffer: 'pass a base64 string: buffer.toString("base64")',
  Uint8Array: 'pass a base64 string: Buffer.from(bytes).toString("base64")',
  URL: 'JSON makes it a string: pass url.href',
  RegExp: 'JSON makes it {}: pass its source',
  Error: 'JSON makes it {}: pass its message',
}

/** Thrown inside the walk to stop it: a problem found, or the text grew too long. */
class Stop extends Error {
  constructor(readonly encoding: JsonEncoding) {
    super('stop')
  }
}

/**
 * `value` as JSON text, or the first place where it is not plain JSON: strings, finite numbers
 * (not `-0`), booleans, `null`, arrays (of `Array` itself, without holes or other properties) and
 * objects whose prototype is `Object.prototype` or `null`, without `toJSON` or enumerable symbol
 * keys. An object property whose value is `undefined` is left out (reading it gives `undefined`
 * either way); `undefined` in an array is refused (it would arrive as `null`). With `maxLength`, the
 * walk stops once the text is longer (a huge value is refused at the cost of the limit, not of the
 * value). Throws only what reading the value throws (a getter, a proxy trap).
 */
export function encodeJson(value: unknown, root: string, maxLength = Infinity): JsonEncoding {
  const state: WalkState = { out: '', maxLength, root, ancestors: [], segments: [] }
  try {
    walk(state, value, 0)
  } catch (error) {
    if (error instanceof Stop) return error.encoding
    throw error
  }
  return { json: state.out }
}

/**
 * One encoding under way. The place being read is kept as segments (keys and indexes) and written
 * out only for a problem: the usual value, which has none, costs no path strings.
 */
interface WalkState {
  out: string
  readonly maxLength: number
  readonly root: string
  readonly ancestors: object[]
  readonly segments: (string | number)[]
}

function write(state: WalkState, text: string): void {
  state.out += text
  if (state.out.length > state.maxLength) throw new Stop({ longerThan: state.maxLength })
}

/** The place being read, as code would reach it from the root: `payload.items[2].at`. */
function pathOf(state: WalkState): string {
  let path = state.root
  for (const segment of state.segments) {
    if (typeof segment === 'number') path += `[${segment}]`
    else path += IDENTIFIER.test(segment) ? `.${segment}` : `[${JSON.stringify(segment)}]`
  }
  return path
}

function fail(state: WalkState, found: string, advice: string, path = pathOf(state)): never {
  throw new Stop({ problem: { path, found, advice } })
}

function walk(state: WalkState, v: unknown, depth: number): void {
  switch (typeof v) {
    case 'string':
      return write(state, JSON.stringify(v))
    case 'boolean':
      return write(state, v ? 'true' : 'false')
    case 'number':
      if (!Number.isFinite(v)) return fail(state, String(v), 'JSON has no NaN or Infinity: it would arrive as null')
      if (Object.is(v, -0)) return fail(state, '-0', 'JSON writes it as 0: pass 0')
      return write(state, String(v))
    case 'undefined':
      return fail(state, 'undefined', 'JSON has no undefined: it would arrive as null or be left out')
    case 'bigint':
      return fail(state, 'a bigint', 'JSON has no bigint: pass it as a string')
    case 'symbol':
      return fail(state, 'a symbol', 'JSON has no symbols')
    case 'function':
      return fail(state, 'a function', 'functions cannot be sent: pass data, and keep the code in the task')
    case 'object':
      break
  }
  if (v === null) return write(state, 'null')
  const object = v
  const { ancestors, segments } = state
  if (depth >= MAX_JSON_DEPTH) return fail(state, `nesting deeper than ${MAX_JSON_DEPTH}`, 'flatten the structure')
  if (ancestors.includes(object)) return fail(state, 'a circular reference', 'JSON cannot hold cycles')
  const prototype: unknown = Object.getPrototypeOf(object)
  const isArray = Array.isArray(object)
  if (isArray ? prototype !== Array.prototype : prototype !== Object.prototype && prototype !== null) {
    const problem = notPlain(object, pathOf(state), prototype)
    return fail(state, problem.found, problem.advice, problem.path)
  }
  if (typeof (object as { toJSON?: unknown }).toJSON === 'function') {
    return fail(state, 'an object with a toJSON method', 'JSON would write what toJSON returns: pass that instead')
  }
  for (const symbol of Object.getOwnPropertySymbols(object)) {
    if (Object.prototype.propertyIsEnumerable.call(object, symbol)) {
      return fail(state, 'an object with symbol keys', 'JSON leaves them out: use string keys')
    }
  }
  ancestors.push(object)
  if (isArray) {
    const array = object as unknown[]
    const count = array.length
    write(state, '[')
    for (let i = 0; i < count; i++) {
      if (i > 0) write(state, ',')
      segments.push(i)
      if (!(i in array)) fail(state, 'an empty slot', 'it would arrive as null')
      walk(state, array[i], depth + 1)
      segments.pop()
    }
    write(state, ']')
    // Other properties of an array are not written: refused rather than lost.
    if (Object.keys(array).length !== count)
      fail(state, 'an array with properties besides its items', 'JSON keeps only the items: pass an object')
  } else {
    write(state, '{')
    let first = true
    for (const key of Object.keys(object)) {
      const item = (object as Record<string, unknown>)[key]
      if (item === undefined) continue
      write(state, first ? `${JSON.stringify(key)}:` : `,${JSON.stringify(key)}:`)
      first = false
      segments.push(key)
      walk(state, item, depth + 1)
      segments.pop()
    }
    write(state, '}')
  }
  ancestors.pop()
}

function notPlain(object: object, path: string, prototype: unknown): JsonProblem {
  const name = constructorName(object)
  if (name === undefined || name === 'Object' || (name === 'Array' && prototype !== Array.prototype)) {
    return {
      path,
      found: `${name === 'Array' ? 'an array' : 'an object'} with a custom prototype`,
      advice: 'JSON drops its prototype: pass a plain one',
    }
  }
  const advice = ADVICE[name] ?? (object instanceof Error ? ADVICE['Error'] : ArrayBuffer.isView(object) ? ADVICE['Uint8Array'] : undefined)
  return {
    path,
    found: `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name}`,
    advice: advice ?? 'JSON keeps only its own enumerable fields and drops its class: pass a plain object',
  }
}

function constructorName(object: object): string | undefined {
  try {
    const name: unknown = (object as { constructor?: { name?: unknown } }).constructor?.name
    return typeof name === 'string' && name.length > 0 ? name : undefined
  } catch {
    return undefined
  }
}
