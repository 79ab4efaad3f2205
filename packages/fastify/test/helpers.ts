import Fastify, { type FastifyInstance } from 'fastify'
import fastifyTasks, { type FastifyTasksOptions } from '../src/index.js'

/** A parsed pino line. */
export type LogLine = Record<string, unknown> & { level: number; msg: string }

/** A Fastify app with fastify-tasks and its log lines captured. */
export async function buildApp(options: FastifyTasksOptions = {}): Promise<{ app: FastifyInstance; logs: LogLine[] }> {
  const logs: LogLine[] = []
  const app = Fastify({
    logger: {
      level: 'debug',
      stream: { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) },
    },
  })
  await app.register(fastifyTasks, options)
  return { app, logs }
}

/** Lets pending promise callbacks run (no timers involved). */
export async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}

/** A promise with its resolve exposed. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const
