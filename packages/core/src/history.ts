import type { AbortReason } from './errors.js'
import type { Priority } from './priority.js'
import type { SiteRef } from './spawn-site.js'
import type { DropReason, Outcome, Release, TaskRecord } from './task.js'

/** Longest error message kept in history. */
const MAX_ERROR_LENGTH = 200

/** One terminated task, as kept in the history ring. */
export interface HistoryEntry {
  readonly id: string
  readonly name: string
  readonly outcome: Outcome
  readonly priority: Priority
  /** Who cancelled or why it was aborted (`timeout`, `operator`, `shutdown`…), or why it was dropped. */
  readonly reason: AbortReason | DropReason | null
  /** Running time in ms; 0 if it never ran. */
  readonly durationMs: number
  /** Time spent waiting for a slot, in ms. */
  readonly queueWaitMs: number
  /** How many times it ran (or was about to): more than 1 for a named task retried after failures. */
  readonly attempts: number
  /** How long ago it ended, in ms, at the time of the snapshot. */
  readonly endedAgoMs: number
  /** `Name: message` of the error, truncated; `null` when there was none. */
  readonly error: string | null
  readonly leaked: boolean
  /** It was proven hung by the garbage collector before it ended (released, since it could not settle). */
  readonly hung: boolean
  /** Set when it ended without its function settling (`evicted`, `expired`, `closed`); see `TaskHandle.release`. */
  readonly release: Release | null
  readonly labels: Readonly<Record<string, string>> | null
  readonly meta: Readonly<Record<string, string | number | boolean>> | null
  readonly site: string | null
}

/** A reusable slot: the facts of one terminated task, copied in place (never its value or error object). */
class Slot {
  seq = 0
  /** A durable backend's job id, for the tasks it handed over. */
  externalId: string | undefined = undefined
  name = ''
  outcome: Outcome = 'completed'
  priority: Priority = 'normal'
  reason: AbortReason | DropReason | null = null
  readyAt = 0
  attempts = 1
  startedAt = NaN
  endedAt = NaN
  error: string | null = null
  leaked = false
  hung = false
  release: Release | null = null
  labels: Readonly<Record<string, string>> | undefined = undefined
  meta: Readonly<Record<string, string | number | boolean>> | undefined = undefined
  siteRef: SiteRef | undefined = undefined
}

/**
 * A fixed ring of the last `size` terminated tasks. Slots are allocated once and overwritten in
 * place, so recording costs no allocation and retains no task values; snapshots copy out plain objects.
 */
export class HistoryRing {
  readonly #slots: Slot[]
  #next = 0
  #count = 0

  constructor(size: number) {
    this.#slots = Array.from({ length: size }, () => new Slot())
  }

  record(task: TaskRecord, endedAt: number): void {
    const size = this.#slots.length
    if (size === 0) return
    const slot = this.#slots[this.#next]!
    slot.seq = task.seq
    slot.externalId = task.externalId
    slot.name = task.name
    slot.outcome = task.state as Outcome
    slot.priority = task.priority
    slot.reason = task.reason ?? null
    slot.readyAt = task.readyAt
    slot.attempts = task.attempt
    slot.startedAt = task.startedAt
    slot.endedAt = endedAt
    slot.error = task.error === undefined ? null : summarizeError(task.error)
    slot.leaked = task.leaked
    slot.hung = task.hung
    slot.release = task.release ?? null
    slot.labels = task.labels
    slot.meta = task.meta
    slot.siteRef = task.siteRef
    this.#next = this.#next + 1 === size ? 0 : this.#next + 1
    if (this.#count < size) this.#count++
  }

  /** Newest first, at most `limit` entries. */
  snapshot(now: number, limit: number, site: (ref: SiteRef) => string | undefined): HistoryEntry[] {
    const size = this.#slots.length
    const out: HistoryEntry[] = []
    for (let i = 1; i <= this.#count && out.length < limit; i++) {
      const slot = this.#slots[(this.#next - i + size) % size]!
      out.push({
        id: slot.externalId ?? String(slot.seq),
        name: slot.name,
        outcome: slot.outcome,
        priority: slot.priority,
        reason: slot.reason,
        durationMs: Number.isNaN(slot.startedAt) ? 0 : slot.endedAt - slot.startedAt,
        queueWaitMs: Math.max(0, (Number.isNaN(slot.startedAt) ? slot.endedAt : slot.startedAt) - slot.readyAt),
        attempts: slot.attempts,
        endedAgoMs: now - slot.endedAt,
        error: slot.error,
        leaked: slot.leaked,
        hung: slot.hung,
        release: slot.release,
        labels: slot.labels === undefined ? null : { ...slot.labels },
        meta: slot.meta === undefined ? null : { ...slot.meta },
        site: slot.siteRef === undefined ? null : (site(slot.siteRef) ?? null),
      })
    }
    return out
  }
}

/** What history says for a value that cannot be turned into text. */
const UNPRINTABLE = 'unprintable value'
/** What stands in for an Error's name or message when reading it throws or yields an object. */
const UNREADABLE_NAME = 'Error'
const UNREADABLE_MESSAGE = '(unreadable message)'

/**
 * `Name: message`, truncated, for any thrown value. Never the whole object, and never throws: a
 * task may fail with anything, and inspecting it can run code (a revoked Proxy throws on
 * `instanceof`, a getter on `message` may throw), so every read of the value is guarded and falls
 * back to a fixed text.
 */
export function summarizeError(error: unknown): string {
  if (typeof error === 'string') return truncate(error)
  if (isError(error)) {
    return truncate(`${readPart(error, 'name') ?? UNREADABLE_NAME}: ${readPart(error, 'message') ?? UNREADABLE_MESSAGE}`)
  }
  return truncate(print(error))
}

function isError(value: unknown): value is Error {
  try {
    return value instanceof Error
  } catch {
    return false
  }
}

/** `error[key]` as (truncated) text if it is a primitive; `undefined` if reading it throws or yields an object. */
function readPart(error: Error, key: 'name' | 'message'): string | undefined {
  try {
    const part: unknown = error[key]
    if (part !== null && (typeof part === 'object' || typeof part === 'function')) return undefined
    return truncate(String(part))
  } catch {
    return undefined
  }
}

/** `String(value)`, which may run the value's own conversions; `UNPRINTABLE` if they throw. */
function print(value: unknown): string {
  try {
    return String(value)
  } catch {
    return UNPRINTABLE
  }
}

function truncate(text: string): string {
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text
}
