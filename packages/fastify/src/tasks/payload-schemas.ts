import type { PayloadMismatch, PayloadValidator, SchemaCompiler } from '@fastify-tasks/core'
import { AjvCompiler } from '@fastify/ajv-compiler'

/**
 * Ajv as Fastify configures it for routes, but strict about payloads: a named task's payload is
 * checked, never changed (no type coercion, no defaults filled in, no properties removed), so what
 * the task receives is what the caller passed, on every backend.
 */
const AJV_OPTIONS = { coerceTypes: false, useDefaults: false, removeAdditional: false, allErrors: false } as const

interface AjvError {
  readonly instancePath: string
  readonly message?: string
}
type AjvValidate = ((value: unknown) => boolean) & { errors?: readonly AjvError[] | null }
type BuildValidator = (input: { schema: object }) => AjvValidate

/**
 * The plugin's `compileSchema`: definitions' payload schemas compiled with Fastify's own validator
 * (`@fastify/ajv-compiler`, with `ajv-formats`), so a schema written for a route works for a task,
 * TypeBox schemas included. The Ajv instance is made on the first schema: an app without payload
 * schemas pays nothing.
 */
export function payloadSchemaCompiler(): SchemaCompiler {
  let build: BuildValidator | undefined
  return (schema) => {
    build ??= (AjvCompiler() as (external: object, options: object) => BuildValidator)({}, { customOptions: AJV_OPTIONS, plugins: [] })
    const validate = build({ schema })
    const check: PayloadValidator = (payload) => (validate(payload) ? undefined : mismatch(validate.errors?.[0]))
    return check
  }
}

/** Ajv's first error as a path from `payload` and a problem: `/items/2/at` → `payload.items[2].at`. */
function mismatch(error: AjvError | undefined): PayloadMismatch {
  if (error === undefined) return { path: 'payload', problem: 'does not match its schema' }
  let path = 'payload'
  for (const raw of error.instancePath.split('/').slice(1)) {
    const part = raw.replaceAll('~1', '/').replaceAll('~0', '~')
    path += /^\d+$/.test(part) ? `[${part}]` : /^[A-Za-z_$][\w$]*$/.test(part) ? `.${part}` : `[${JSON.stringify(part)}]`
  }
  return { path, problem: error.message ?? 'does not match its schema' }
}
