import { expect, test } from 'tstyche'
import Fastify from 'fastify'
import type { ErrorCode as CoreErrorCode } from '@fastify-tasks/core'
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
