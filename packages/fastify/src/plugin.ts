import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { LimitsOptions, SchedulerOptions } from '@fastify-tasks/core'
import { Backpressure } from './backpressure/backpressure.js'
import { debugRoutes } from './debug/routes.js'
import { drainAndReport } from './shutdown/drain.js'
import { EventLoopMonitor } from './backpressure/event-loop-monitor.js'
import { metricsRoute } from './metrics/route.js'
import { resolveMetricsOptions, TaskMetrics } from './metrics/task-metrics.js'
import { AlreadyRegisteredError, DecoratorTakenError } from './errors.js'
import { splitOptions, type FastifyTasksOptions } from './options.js'
import { RequestTasks, RouteLabelCache, UNMATCHED_ROUTE } from './tasks/request-tasks.js'
import { logTaskProblems } from './logging/task-logging.js'
import { payloadSchemaCompiler } from './tasks/payload-schemas.js'
import { AppTasks } from './tasks/app-tasks.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The background-task scheduler of this app (fastify-tasks). */
    readonly tasks: AppTasks
  }
  interface FastifyRequest {
    /** Spawns background tasks on behalf of this request (fastify-tasks). */
    readonly tasks: RequestTasks
  }
}

/** This package's frames are wrappers around `spawn`, never a task's spawn site. */
const OWN_FRAMES = ['src/', 'dist/'].map((dir) => fileURLToPath(new URL(`../${dir}`, import.meta.url)))

/** The user's siteIgnore plus this package's frames; anything but an array is left for the scheduler to reject. */
function withOwnFrames(siteIgnore: unknown): readonly string[] {
  if (siteIgnore === undefined) return OWN_FRAMES
  if (!Array.isArray(siteIgnore)) return siteIgnore as readonly string[]
  return [...OWN_FRAMES, ...(siteIgnore as string[])]
}

/** The user's admission check and start gate, if any, then the backpressure's. */
function composeAdmission(options: SchedulerOptions, backpressure: Backpressure): Pick<SchedulerOptions, 'admission' | 'startGate'> {
  const { admission: theirs, startGate: theirGate } = options
  if (theirs !== undefined && typeof theirs !== 'function') return { admission: theirs }
  if (theirGate !== undefined && typeof theirGate !== 'function') return { startGate: theirGate }
  return {
    admission:
      theirs === undefined
        ? backpressure.admission
        : (request) => {
            const verdict = theirs(request)
            return verdict === false ? false : verdict === 'defer' ? 'defer' : backpressure.admission(request)
          },
    startGate: theirGate === undefined ? backpressure.startGate : (priority) => theirGate(priority) && backpressure.startGate(priority),
  }
}

/**
 * The user's limits, told the backpressure's verdict as their pressure (after their own hook, if
 * any); a `limits` or `pressure` of the wrong type is left for the scheduler to reject.
 */
function withPressure(limits: unknown, backpressure: Backpressure): LimitsOptions {
  if (limits !== undefined && (typeof limits !== 'object' || limits === null)) return limits as LimitsOptions
  const given = limits as LimitsOptions | undefined
  const theirs = given?.pressure
  if (theirs !== undefined && typeof theirs !== 'function') return given as LimitsOptions
  const ours = backpressure.pressure
  return { ...given, pressure: theirs === undefined ? ours : () => theirs() ?? ours() }
}

const plugin: FastifyPluginAsync<FastifyTasksOptions> = async (fastify: FastifyInstance, options) => {
  if (fastify.hasDecorator('tasks') || fastify.hasRequestDecorator('tasks')) {
    const ours = fastify.hasDecorator('tasks') && (fastify as { tasks?: unknown }).tasks instanceof AppTasks
    throw ours ? new AlreadyRegisteredError() : new DecoratorTakenError()
  }
  const {
    scheduler: schedulerOptions,
    drainTimeout,
    logInterval,
    debug,
    eventLoop: eventLoopOptions,
    metrics: metricsOptions,
    backpressure: backpressureOptions,
  } = splitOptions(options)
  const metricsConfig = metricsOptions === false ? undefined : resolveMetricsOptions(metricsOptions)
  // The plugin's timers and readings of time run on the scheduler's clock (a bad one is refused by the scheduler below).
  const eventLoop = new EventLoopMonitor(eventLoopOptions, schedulerOptions.clock)
  const backpressure = backpressureOptions === false ? undefined : new Backpressure(eventLoop, backpressureOptions)
  const made: { metrics?: TaskMetrics | undefined } = {}
  const scheduler = new AppTasks(
    {
      ...schedulerOptions,
      ...(backpressure === undefined
        ? {}
        : { ...composeAdmission(schedulerOptions, backpressure), limits: withPressure(schedulerOptions.limits, backpressure) }),
      // A bad siteIgnore is passed on as it is, for the scheduler to reject by name.
      siteIgnore: withOwnFrames(schedulerOptions.siteIgnore),
      compileSchema: schedulerOptions.compileSchema ?? payloadSchemaCompiler(),
    },
    fastify.log,
    drainTimeout,
    {
      eventLoop,
      backpressure,
      // Kept here too: the plugin calls what app.tasks.metrics does not show.
      metrics: (tasks) =>
        (made.metrics = metricsConfig === undefined ? undefined : new TaskMetrics(tasks, eventLoop, backpressure, metricsConfig)),
    },
  )
  const metrics = made.metrics
  const labels = new RouteLabelCache()
  const stopLogging = logTaskProblems(scheduler, fastify.log, logInterval, eventLoop.clock)

  fastify.decorate('tasks', scheduler)
  fastify.decorateRequest('tasks', {
    getter(this: FastifyRequest): RequestTasks {
      return new RequestTasks(scheduler, this, labels)
    },
  })
  if (metrics !== undefined && metricsConfig?.http === true) {
    fastify.addHook('onResponse', (request, reply, done) => {
      metrics.observeRequest(request.method, request.routeOptions.url ?? UNMATCHED_ROUTE, reply.statusCode, reply.elapsedTime / 1000)
      done()
    })
  }
  // Measured from onReady: the synchronous work of loading plugins would read as a blocked loop.
  fastify.addHook('onReady', async () => {
    eventLoop.start()
  })
  if (backpressure !== undefined) await backpressure.attach(fastify, scheduler, schedulerOptions.retryAfter ?? 1)
  fastify.addHook('onClose', async (instance) => {
    try {
      const report = await drainAndReport(scheduler, instance.log)
      metrics?.recordAbandoned(report)
    } finally {
      stopLogging()
      metrics?.close()
      eventLoop.stop()
    }
  })
  if (debug !== false) await fastify.register(debugRoutes, debug)
  if (metricsConfig?.route === true)
    await fastify.register(metricsRoute, {
      path: metricsConfig.path,
      registry: metricsConfig.registry,
      ...(metricsConfig.guard === undefined ? {} : { guard: metricsConfig.guard }),
    })
}

/**
 * The fastify-tasks plugin: `app.tasks`, `request.tasks`, logs for failed, timed-out and leaked
 * tasks, and a drain on close.
 *
 * ```ts
 * await app.register(fastifyTasks, { concurrency: 64, maxQueue: 10_000 })
 * app.post('/orders', async (request, reply) => {
 *   request.tasks.spawn('send-confirmation', ({ signal, log }) => mailer.send(order, { signal }))
 *   return reply.code(202).send()
 * })
 * ```
 */
export const fastifyTasks = fp(plugin, { name: 'fastify-tasks', fastify: '5.x' })
