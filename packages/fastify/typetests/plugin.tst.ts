import { expect, test } from 'tstyche'
import Fastify from 'fastify'
import { defineTask as defineCoreTask, Scheduler, type ErrorCode as CoreErrorCode } from '@fastify-tasks/core'
import { Type } from '@sinclair/typebox'
import fastifyTasks, {
  ERROR_CODES,
  fastifyTasks as named,
  listenGracefully,
  type RequestTasks,
  type AppTasks,
  type FastifyTaskContext,
  type GracefulServer,
  type AdmissionError,
  type ErrorCode,
  type TaskHandle,
  defineTask,
  type FastifyTaskDefinition,
} from 'fastify-tasks'

const app = Fastify()

test('default and named exports are the same plugin, with typed options', () => {
  expect(fastifyTasks).type.toBe(named)
  expect(app.register).type.toBeCallableWith(fastifyTasks, { concurrency: 4, drainTimeout: 5_000 })
  expect(app.register).type.not.toBeCallableWith(fastifyTasks, { concurrency: '4' })
  expect(app.register).type.not.toBeCallableWith(fastifyTasks, { drainTimeout: 'soon' })
})

test('the app and requests are decorated', () => {
  expect(app.tasks).type.toBe<AppTasks>()
  app.get('/', async (request) => {
    expect(request.tasks).type.toBe<RequestTasks>()
    const handle = request.tasks.spawn('n', async ({ log, signal }) => {
      expect(log.info).type.not.toBe<never>()
      expect(signal).type.toBe<AbortSignal>()
      return 1
    })
    expect(handle).type.toBe<TaskHandle<number>>()
    return 'ok'
  })
})

test('task functions receive the Fastify task context', () => {
  app.tasks.spawn('n', (context) => {
    expect(context).type.toBe<FastifyTaskContext>()
  })
  expect(app.tasks.spawn).type.not.toBeCallableWith('n', () => 1, { data: 1 })
})

test('listenGracefully resolves with the server handle', () => {
  expect(listenGracefully(app)).type.toBe<Promise<GracefulServer>>()
  expect(listenGracefully).type.not.toBeCallableWith(app, { drainTimeout: '10s' })
})

test('ERROR_CODES holds every code of the suite, with literal statuses', () => {
  expect<CoreErrorCode>().type.toBeAssignableTo<ErrorCode>()
  expect<(typeof ERROR_CODES)[AdmissionError['code']]['statusCode']>().type.toBe<503>()
  expect(ERROR_CODES.FT_TASK_NOT_FOUND.statusCode).type.toBe<404>()
})

test('named tasks: spawn is typed by the definition (TypeBox schema, or an annotated run)', () => {
  const resize = defineTask('resize', {
    payload: Type.Object({ url: Type.String(), width: Type.Integer() }),
    run: async (payload, { log, attempt, signal }) => {
      expect(payload).type.toBe<{ url: string; width: number }>()
      expect(log).type.toBe<FastifyTaskContext['log']>()
      expect(attempt).type.toBe<number>()
      expect(signal).type.toBe<AbortSignal>()
      return { bytes: 1 }
    },
  })
  expect(resize).type.toBe<FastifyTaskDefinition<{ url: string; width: number }, { bytes: number }>>()
  const mail = defineTask('mail', {
    payload: { type: 'object', required: ['to'], properties: { to: { type: 'string' } } },
    run: (payload: { to: string }) => payload.to.length,
  })
  expect(app.register).type.toBeCallableWith(fastifyTasks, { tasks: [resize, mail] })
  expect(app.tasks.spawn(resize, { url: 'u', width: 1 })).type.toBe<TaskHandle<{ bytes: number }>>()
  expect(app.tasks.spawn(mail, { to: 'a@b.c' })).type.toBe<TaskHandle<number>>()
  expect(app.tasks.trySpawn(mail, { to: 'a@b.c' })).type.toBe<TaskHandle<number> | undefined>()
  expect(app.tasks.spawn).type.not.toBeCallableWith(resize, { url: 'u', width: '1' })
  expect(app.tasks.spawn).type.not.toBeCallableWith(mail, { to: 1 })
  expect(app.tasks.spawn).type.not.toBeCallableWith(mail)
  app.get('/', async (request) => {
    expect(request.tasks.spawn(resize, { url: 'u', width: 1 }, { priority: 'high' })).type.toBe<TaskHandle<{ bytes: number }>>()
    expect(request.tasks.spawn).type.not.toBeCallableWith(resize, { url: 1, width: 1 })
  })
  // A core definition (its run gets the core context) runs in the plugin too; not the other way round.
  const plain = defineCoreTask('plain', { run: (n: number) => n + 1 })
  expect(app.tasks.spawn(plain, 1)).type.toBe<TaskHandle<number>>()
  expect(new Scheduler().spawn).type.not.toBeCallableWith(resize, { url: 'u', width: 1 })
})
