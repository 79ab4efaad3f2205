/**
 * Whether a value survives a trip through JSON unchanged. A named task's payload and result cross a
 * process boundary on a durable backend (and a thread on a worker), so they are JSON on every
 * backend, the in-memory one too: a `Date` or a `Map` that worked in memory would arrive changed
 * from Redis. Values that JSON would change are refused, with where and why.
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

/**
 * The first place where `value` is not plain JSON (strings, finite numbers, booleans, `null`,
 * arrays, and objects whose prototype is `Object.prototype` or `null`), or `undefined` if there is
 * none. An object property whose value is `undefined` is allowed (JSON leaves it out, and reading
 * it gives `undefined` either way); `undefined` in an array is not (it would arrive as `null`).
 * Symbol-keyed and non-enumerable properties are ignored, as JSON ignores them.
 */
export function findNonJson(value: unknown, root: string): JsonProblem | undefined {
  return walk(value, root, [], 0)
}

function walk(value: unknown, path: string, ancestors: object[], depth: number): JsonProblem | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined
    case 'number':
      return Number.isFinite(value)
        ? undefined
        : { path, found: String(value), advice: 'JSON has no NaN or Infinity: it would arrive as null' }
    case 'undefined':
      return { path, found: 'undefined', advice: 'JSON has no undefined: it would arrive as null or be left out' }
    case 'bigint':
      return { path, found: 'a bigint', advice: 'JSON has no bigint: pass it as a string' }
    case 'symbol':
      return { path, found: 'a symbol', advice: 'JSON has no symbols' }
    case 'function':
      return { path, found: 'a function', advice: 'functions cannot be sent: pass data, and keep the code in the task' }
    case 'object':
      break
  }
  if (value === null) return undefined
  const object = value
  if (depth >= MAX_JSON_DEPTH) return { path, found: `nesting deeper than ${MAX_JSON_DEPTH}`, advice: 'flatten the structure' }
  if (ancestors.includes(object)) return { path, found: 'a circular reference', advice: 'JSON cannot hold cycles' }
  ancestors.push(object)
  try {
    if (Array.isArray(object)) {
      for (let i = 0; i < object.length; i++) {
        const problem = i in object ? walk(object[i], `${path}[${i}]`, ancestors, depth + 1) : hole(`${path}[${i}]`)
        if (problem !== undefined) return problem
      }
      return undefined
    }
    const prototype: unknown = Object.getPrototypeOf(object)
    if (prototype !== Object.prototype && prototype !== null) return notPlain(object, path)
    for (const key of Object.keys(object)) {
      const item = (object as Record<string, unknown>)[key]
      if (item === undefined) continue
      const problem = walk(item, IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`, ancestors, depth + 1)
      if (problem !== undefined) return problem
    }
    return undefined
  } finally {
    ancestors.pop()
  }
}

function hole(path: string): JsonProblem {
  return { path, found: 'an empty slot', advice: 'it would arrive as null' }
}

function notPlain(object: object, path: string): JsonProblem {
  const name = constructorName(object)
  if (name === undefined) return { path, found: 'an object with a custom prototype', advice: 'pass a plain object' }
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
