/** The Fastify servers compared by the HTTP throughput benchmark, in the order their rows are printed. */
export const HTTP_VARIANTS = ['plain', 'idle-nohttp', 'idle', 'spawn'] as const

export type HttpVariantId = (typeof HTTP_VARIANTS)[number]

/** The baseline every other variant is compared with. */
export const HTTP_BASELINE: HttpVariantId = 'plain'

export const HTTP_VARIANT_LABELS: Readonly<Record<HttpVariantId, string>> = {
  plain: 'Fastify (plain)',
  'idle-nohttp': 'fastify-tasks, idle, no HTTP metric',
  idle: 'fastify-tasks, idle',
  spawn: 'fastify-tasks, 1 task/request',
}

/** What each server does. Printed with the results. */
export const HTTP_VARIANT_SETUPS: Readonly<Record<HttpVariantId, string>> = {
  plain: "GET / returns { hello: 'world' }; logger: false",
  'idle-nohttp': 'as plain, with fastify-tasks registered with metrics: { http: false }; the route does not spawn',
  idle: 'as plain, with fastify-tasks registered (defaults); the route does not spawn',
  spawn: "as idle; the route also calls request.tasks.spawn('bench', …), a task that resolves at once",
}

export function isHttpVariant(value: unknown): value is HttpVariantId {
  return typeof value === 'string' && (HTTP_VARIANTS as readonly string[]).includes(value)
}
