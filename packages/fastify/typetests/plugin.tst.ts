import { expect, test } from 'tstyche'
import Fastify from 'fastify'
import fastifyTasks, {
  fastifyTasks as named,
  listenGracefully,
  RequestTasks,
  TaskScheduler,
  type FastifyTaskContext,
  type GracefulServer,
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
  expect(app.tasks).type.toBe<TaskScheduler>()
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
