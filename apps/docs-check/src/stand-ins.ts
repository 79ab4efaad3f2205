/**
 * What the docs' code blocks use without defining it: an app, a request, a mailer, a database… Declared
 * once, globally, in the temporary directory the blocks are checked in (a block's own declarations
 * shadow these). Keep the types close to what a reader would assume, so the blocks are checked for
 * real: an argument of the wrong type is still an error.
 */
export const STAND_INS = `/// <reference types="fastify-tasks" />
// Stand-ins for the names the docs use without defining them. Global: a block's own names shadow them.

type Fastify = import('fastify').FastifyInstance
type Signal = { signal: AbortSignal }

interface OrderLine { readonly sku: string; readonly quantity: number }
interface Order { readonly id: string; readonly email: string; readonly lines: readonly OrderLine[] }
interface User { readonly id: string; readonly email: string }
interface Doc { readonly id: string; readonly markdown: string }
interface PartnerEvent { readonly type: string; readonly accountId: string }
interface Mail { readonly to: string; readonly subject: string }

// The app and the request a snippet runs in.
declare const app: Fastify
declare const request: import('fastify').FastifyRequest
declare const reply: import('fastify').FastifyReply
declare const log: import('fastify').FastifyBaseLogger
declare const fastifyTasks: typeof import('fastify-tasks').default
declare const tasks: import('@fastify-tasks/core').Scheduler
declare const scheduler: import('@fastify-tasks/core').Scheduler
declare const handle: import('@fastify-tasks/core').TaskHandle<string>
declare const databasePlugin: import('fastify').FastifyPluginAsync
declare const routes: import('fastify').FastifyPluginAsync

// Mail, orders, users, documents.
declare const mailer: { send(message: unknown, options: Signal): Promise<void> }
declare function saveOrder(body: unknown): Promise<Order>
declare const order: Order
declare const receipt: Mail
declare function receiptFor(orderId: string): Mail
declare function touchLastSeen(userId: string): Promise<void>
declare function welcomeMail(user: User): Mail
declare const users: { create(email: string): Promise<User> }
declare const documents: { save(id: string, markdown: string): Promise<Doc>; publish(id: string): Promise<void> }
declare const doc: Doc
declare function renderPreview(doc: Doc, signal: AbortSignal): Promise<void>
declare function render(doc: Doc, signal: AbortSignal): Promise<void>
declare const carts: { add(sku: string): Promise<{ id: string; items: string[] }> }
declare function currentUserId(request: import('fastify').FastifyRequest): string
declare function reserveStock(line: OrderLine, options: Signal): Promise<void>

// Caches, partners and other dependencies.
declare function warmCache(signal: AbortSignal, log: import('fastify').FastifyBaseLogger): Promise<void>
declare function fetchRates(signal: AbortSignal): Promise<{ currency: string; rate: number }[]>
declare const rates: { refresh(options: Signal): Promise<void> }
declare function loadUsers(signal: AbortSignal): Promise<User[]>
declare function poll(signal: AbortSignal): Promise<void>
declare function reindex(): Promise<void>
declare const audit: { write(requestId: string | undefined): Promise<void> }
declare const auditLog: { write(entry: Record<string, unknown>, options: Signal): Promise<void> }
declare const searchIndex: { refresh(options: Signal): Promise<void> }
declare const analytics: { track(event: string, payload: unknown, options: Signal): Promise<void> }
declare const hook: { readonly url: string }
declare const event: { readonly type: string; readonly data: unknown }
declare function processPartnerEvent(event: PartnerEvent, signal: AbortSignal): Promise<void>
declare const legacyPartner: { sync(accountId: string): Promise<void> }
declare const accountId: string
declare const loadMonitor: { readonly overloaded: boolean }
declare const eventLoopBusy: boolean
declare const scrapeKey: string

// Exports, reports.
declare const exportId: string
declare const tenantId: string
declare const tier: string
declare function ordersPages(tenantId: string): Promise<unknown[]>
declare const storage: {
  createTemp(id: string): Promise<{ append(page: unknown, options: Signal): Promise<void>; publish(options: Signal): Promise<void>; discardIfUnpublished(): Promise<void> }>
  put(key: string, value: unknown, options: Signal): Promise<void>
}
declare class ReportBuilder {
  constructor(order: Order)
  readonly done: boolean
  readonly result: Uint8Array
  step(): void
}

// Metrics a listener feeds (prom-client style).
declare const metrics: {
  rejected: { inc(labels: Record<string, string>): void }
  queueWait: { observe(labels: Record<string, string>, value: number): void }
  duration: { observe(labels: Record<string, string>, value: number): void }
}
`

/**
 * Modules the docs import without showing them, written beside each page's blocks unless the page
 * has a block of that name (`// app.ts`): graceful shutdown imports `build` from `./app.js`.
 */
export const STUB_MODULES: Readonly<Record<string, string>> = {
  'app.ts': `import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import 'fastify-tasks'
export declare function build(options?: FastifyServerOptions): Promise<FastifyInstance>
`,
}
