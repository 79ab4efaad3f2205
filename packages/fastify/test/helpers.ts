import { ManualClock } from '@fastify-tasks/core/testing'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyTasks, { type FastifyTasksOptions } from '../src/index.js'
import type { EventLoopSample, EventLoopSampler } from '../src/backpressure/event-loop-monitor.js'

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

/**
 * A ManualClock whose event loop can be blocked: `block(ms)` moves time on by `ms`, and the timers
 * that fell due meanwhile run once, late, at its end (as after a synchronous stretch of `ms`). Timers
 * they set count from the end of the block.
 */
export class BlockingClock extends ManualClock {
  #blockedUntil: number | undefined

  override now(): number {
    return this.#blockedUntil ?? super.now()
  }

  override setTimeout(callback: () => void, ms: number): unknown {
    return super.setTimeout(callback, ms + (this.#blockedUntil === undefined ? 0 : this.#blockedUntil - super.now()))
  }

  block(ms: number): void {
    this.#blockedUntil = super.now() + ms
    try {
      this.advance(ms)
    } finally {
      this.#blockedUntil = undefined
    }
  }
}

/** An event-loop sampler the test sets: each window reads the figures set last. */
export class FedSampler implements EventLoopSampler {
  p99 = 0
  utilization = 0
  measuring = false

  start(): void {
    this.measuring = true
  }

  take(): EventLoopSample {
    return { delayMs: { p50: 0, p90: 0, p99: this.p99, max: this.p99, mean: 0 }, utilization: this.utilization }
  }

  stop(): void {
    this.measuring = false
  }
}
