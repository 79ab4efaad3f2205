import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { debugRoutes } from './debug-routes.js'
import { drainOnClose } from './drain.js'
import { EventLoopMonitor } from './event-loop-monitor.js'
import { AlreadyRegisteredError } from './errors.js'
import { splitOptions, type FastifyTasksOptions } from './options.js'
import { RequestTasks, RouteLabelCache } from './request-tasks.js'
import { logTaskProblems } from './task-logging.js'
import { TaskScheduler } from './task-scheduler.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The background-task scheduler of this app (fastify-tasks). */
    tasks: TaskScheduler
  }
  interface FastifyRequest {
    /** Spawns background tasks on behalf of this request (fastify-tasks). */
    readonly tasks: RequestTasks
  }
}

/** This package's frames are wrappers around `spawn`, never a task's spawn site. */
const OWN_FRAMES = ['src/', 'dist/'].map((dir) => fileURLToPath(new URL(`../${dir}`, import.meta.url)))

const plugin: FastifyPluginAsync<FastifyTasksOptions> = async (fastify: FastifyInstance, options) => {
  if (fastify.hasDecorator('tasks') || fastify.hasRequestDecorator('tasks')) throw new AlreadyRegisteredError()
  const { scheduler: schedulerOptions, drainTimeout, debug, eventLoop: eventLoopOptions } = splitOptions(options)
  const eventLoop = new EventLoopMonitor(eventLoopOptions)
  const scheduler = new TaskScheduler(
    { ...schedulerOptions, siteIgnore: [...OWN_FRAMES, ...(schedulerOptions.siteIgnore ?? [])] },
    fastify.log,
    drainTimeout,
    eventLoop,
  )
  const labels = new RouteLabelCache()
  const stopLogging = logTaskProblems(scheduler, fastify.log)

  fastify.decorate('tasks', scheduler)
  fastify.decorateRequest('tasks', {
    getter(this: FastifyRequest): RequestTasks {
      return new RequestTasks(scheduler, this, labels)
    },
  })
  eventLoop.start()
  fastify.addHook('onClose', async (instance) => {
    try {
      await drainOnClose(scheduler, instance.log)
    } finally {
      stopLogging()
      eventLoop.stop()
    }
  })
  if (debug !== false) await fastify.register(debugRoutes, debug)
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
