import { types } from 'node:util'
import { truncate } from '../truncate.js'

/** Longest message of the stand-in Error. */
const MAX_MESSAGE_LENGTH = 200

/**
 * A value safe to hand to the logger's `err` serializer. A task may fail with anything, and the
 * serializer reads, walks and briefly tags what it is given: a revoked Proxy, a throwing getter or a
 * frozen Error makes it throw, and the log line is lost. A plain Error (see {@link isPlainError}) is
 * returned as is; anything else becomes a new Error whose message summarizes it (`Name: message`, at
 * most 200 characters). Never throws and never changes the value.
 */
export function loggableError(value: unknown): unknown {
  return isPlainError(value) ? value : new Error(summarize(value))
}

/**
 * A real Error (not a Proxy of one) that the serializer can walk without throwing. It must take the
 * serializer's tag (be extensible); its message must be a string, its name and stack strings if set;
 * and what hangs off it (its constructor's name, its cause, AggregateError entries, its enumerable
 * properties) must be data or, when error-like, a plain Error in turn. Only reads, never writes.
 */
function isPlainError(value: unknown): value is Error {
  return types.isNativeError(value) && walks(value, new Set())
}

function walks(error: object, seen: Set<object>): boolean {
  if (seen.has(error)) return true
  seen.add(error)
  try {
    if (!Object.isExtensible(error)) return false
    const fields = error as Record<string, unknown>
    const { name, message, stack, constructor, cause, errors } = fields
    // The serializer joins messages and stacks along the cause chain.
    if (typeof message !== 'string' || !isTextOrUndefined(name) || !isTextOrUndefined(stack)) return false
    // A function cause is called by the serializer (VError style): code we would rather not run.
    if (typeof cause === 'function') return false
    const attached: unknown[] = [constructor, typeof constructor === 'function' ? constructor.name : undefined, cause, errors]
    if (Array.isArray(errors)) attached.push(...(errors as unknown[]))
    for (const key in error) attached.push(fields[key])
    return attached.every((value) => isPlainAttachment(value, seen))
  } catch {
    return false
  }
}

/** A primitive; an object that is not a Proxy and not error-like (no string `message`); or a plain Error. */
function isPlainAttachment(value: unknown, seen: Set<object>): boolean {
  if (isPrimitive(value)) return true
  if (types.isProxy(value)) return false
  return typeof (value as { message?: unknown }).message !== 'string' || walks(value as object, seen)
}

function isTextOrUndefined(value: unknown): boolean {
  return value === undefined || typeof value === 'string'
}

function isPrimitive(value: unknown): boolean {
  return value === null || (typeof value !== 'object' && typeof value !== 'function')
}

/** `Name: message` for an Error, the value printed otherwise, truncated; fixed texts for what cannot be read. */
function summarize(value: unknown): string {
  return truncate(
    types.isNativeError(value)
      ? `${readText(() => value.name) ?? 'Error'}: ${readText(() => value.message) ?? '(unreadable message)'}`
      : (readText(() => value) ?? 'unprintable value'),
    MAX_MESSAGE_LENGTH,
  )
}

/** `String(read())`, truncated; `undefined` when reading or printing throws. */
function readText(read: () => unknown): string | undefined {
  try {
    return truncate(String(read()), MAX_MESSAGE_LENGTH)
  } catch {
    return undefined
  }
}
