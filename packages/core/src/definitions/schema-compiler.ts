/**
 * Checks a payload against one definition's schema: `undefined` when it matches, otherwise what is
 * wrong, as `{ path, problem }` (`{ path: 'payload.orderId', problem: 'must be string' }`).
 */
export type PayloadValidator = (payload: unknown) => PayloadMismatch | undefined

/** Where a payload does not match its schema, and how. */
export interface PayloadMismatch {
  /** The place, from `payload` on: `payload`, `payload.items[2]`, `payload/items/2` (a JSON pointer is fine). */
  readonly path: string
  readonly problem: string
}

/**
 * Turns a definition's JSON schema into a {@link PayloadValidator}, once per definition, when the
 * scheduler is made (a schema that does not compile is an error there). The scheduler's
 * `compileSchema` option; fastify-tasks passes one built on Fastify's own validator (Ajv).
 */
export type SchemaCompiler = (schema: object, task: string) => PayloadValidator
