/**
 * The servers compared by the queued-server scenario of the limits benchmark, in the order their
 * rows are printed: the same app, with no tasks, or with every slot held and a long queue behind.
 */

export const QUEUED_VARIANTS = ['empty', 'queued'] as const

export type QueuedVariantId = (typeof QUEUED_VARIANTS)[number]

/** The variant the other is compared with. */
export const QUEUED_BASELINE: QueuedVariantId = 'empty'

/** Tasks kept waiting in the `queued` server, beyond those holding every slot. */
export const HELD_WAITING = 10_000

/** The name of the held tasks. */
export const HELD_TASK_NAME = 'held'

export const QUEUED_VARIANT_LABELS: Readonly<Record<QueuedVariantId, string>> = {
  empty: 'no live task',
  queued: `slots held, ${HELD_WAITING.toLocaleString('en-US')} waiting`,
}

/** What each server holds besides the route. Printed with the results. */
export const QUEUED_VARIANT_SETUPS: Readonly<Record<QueuedVariantId, string>> = {
  empty: 'the same tasks spawned at startup as queued, then all cancelled (cancelWhere) and settled: no live task',
  queued:
    `at startup, app.tasks.spawn('${HELD_TASK_NAME}', …, { timeout: Infinity }) as many times as the name's limit, then ` +
    `${HELD_WAITING.toLocaleString('en-US')} more: each awaits a promise that settles only when its signal aborts (at close)`,
}

export function isQueuedVariant(value: unknown): value is QueuedVariantId {
  return typeof value === 'string' && (QUEUED_VARIANTS as readonly string[]).includes(value)
}
