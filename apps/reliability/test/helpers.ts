import Fastify, { type FastifyInstance } from 'fastify'
import fastifyTasks, { type FastifyTasksOptions } from 'fastify-tasks'

/** A parsed pino line. */
export type LogLine = Record<string, unknown> & { level: number; msg: string }

/** An app with fastify-tasks and captured logs (none when `capture` is false: load tests must not hoard them). */
export async function buildApp(options: FastifyTasksOptions = {}, capture = true): Promise<{ app: FastifyInstance; logs: LogLine[] }> {
  const logs: LogLine[] = []
  const app = capture
    ? Fastify({ logger: { level: 'info', stream: { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) } } })
    : Fastify({ logger: false })
  await app.register(fastifyTasks, options)
  return { app, logs }
}

/** Lets pending callbacks run. */
export async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}

/** `name{labels} value` samples of a Prometheus exposition. */
export function samples(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    out.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return out
}

/** Records unhandled rejections and uncaught exceptions while `run` runs. */
export async function watchProcess<T>(run: () => Promise<T>): Promise<{ result: T; unhandled: unknown[]; uncaught: unknown[] }> {
  const unhandled: unknown[] = []
  const uncaught: unknown[] = []
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason)
  const onUncaught = (error: unknown): void => void uncaught.push(error)
  process.on('unhandledRejection', onUnhandled)
  process.on('uncaughtException', onUncaught)
  try {
    const result = await run()
    await flush(10)
    return { result, unhandled, uncaught }
  } finally {
    process.off('unhandledRejection', onUnhandled)
    process.off('uncaughtException', onUncaught)
  }
}
