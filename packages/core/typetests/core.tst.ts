import { expect, test } from 'tstyche'
import {
  defineTask,
  Scheduler,
  type AdmissionError,
  type TaskDefinition,
  type CloseReport,
  type ErrorCode,
  type Settlement,
  type TaskContext,
  type TaskHandle,
  type TaskState,
} from '@fastify-tasks/core'
import { ManualClock } from '@fastify-tasks/core/testing'

const scheduler = new Scheduler({ concurrency: 4, clock: new ManualClock() })

test('spawn infers the settled value from the task function', () => {
  const handle = scheduler.spawn('n', async () => 42)
  expect(handle).type.toBe<TaskHandle<number>>()
  expect(handle.settled).type.toBe<Promise<Settlement<number>>>()
  expect(scheduler.spawn('s', () => 'sync')).type.toBe<TaskHandle<string>>()
})

test('the settlement is a union discriminated by outcome', async () => {
  const settlement = await scheduler.spawn('n', () => 1).settled
  if (settlement.outcome === 'completed') expect(settlement.value).type.toBe<number>()
  if (settlement.outcome === 'failed') expect(settlement.error).type.toBe<unknown>()
  if (settlement.outcome === 'cancelled') expect(settlement.reason).type.toBe<'caller' | 'shutdown' | 'superseded' | 'operator'>()
  if (settlement.outcome === 'dropped') expect(settlement.reason).type.toBe<'overflow' | 'shutdown' | 'unavailable'>()
})

test('the task function receives a context with signal, id, name and progress', () => {
  scheduler.spawn('ctx', (ctx) => {
    expect(ctx).type.toBe<TaskContext>()
    expect(ctx.signal).type.toBe<AbortSignal>()
    expect(ctx.progress).type.toBe<() => void>()
  })
})

test('options are checked', () => {
  expect(scheduler.spawn).type.not.toBeCallableWith('n', () => 1, { priority: 'urgent' })
  expect(scheduler.spawn).type.not.toBeCallableWith('n', () => 1, { timeout: '5s' })
  expect(scheduler.spawn).type.not.toBeCallableWith('n', () => 1, { labels: { route: 1 } })
  expect(scheduler.spawn).type.toBeCallableWith('n', () => 1, { timeout: Infinity, priority: 'low', key: 'k', onDuplicate: 'replace' })
  expect(Scheduler).type.not.toBeConstructableWith({ overflow: 'drop-newest' })
  expect(Scheduler).type.not.toBeConstructableWith({ spawnSite: true })
})

test('handles are read-only and cancel takes a known reason', () => {
  const handle = scheduler.spawn('n', () => 1)
  expect(handle.state).type.toBe<TaskState>()
  expect(handle.cancel).type.toBeCallableWith('operator')
  expect(handle.cancel).type.not.toBeCallableWith('timeout')
  expect(handle.cancel).type.toBeCallableWith('caller')
  expect(handle.cancel).type.not.toBeCallableWith('cancelled')
})

test('close resolves with a report; admission errors carry a reason', () => {
  expect(scheduler.close()).type.toBe<Promise<CloseReport>>()
  expect<AdmissionError['reason']>().type.toBe<'queue_full' | 'overloaded' | 'closing' | 'unavailable'>()
})

test('error codes are a closed union; an admission error has a refusal code, and nothing of HTTP', () => {
  expect<ErrorCode>().type.toBe<
    | 'FT_QUEUE_FULL'
    | 'FT_OVERLOADED'
    | 'FT_CLOSING'
    | 'FT_INVALID_OPTION'
    | 'FT_TASK_ABORTED'
    | 'FT_UNKNOWN_TASK'
    | 'FT_INVALID_PAYLOAD'
    | 'FT_PAYLOAD_TOO_LARGE'
    | 'FT_INVALID_RESULT'
    | 'FT_BACKEND_UNAVAILABLE'
    | 'FT_NOT_DURABLE'
  >()
  expect<AdmissionError['code']>().type.toBe<'FT_QUEUE_FULL' | 'FT_OVERLOADED' | 'FT_CLOSING' | 'FT_BACKEND_UNAVAILABLE'>()
  expect<AdmissionError>().type.not.toHaveProperty('statusCode')
  expect<AdmissionError>().type.not.toHaveProperty('headers')
})

test('named tasks: spawn takes the definition and a payload of its type, and returns its result type', () => {
  const charge = defineTask('charge', {
    payload: { type: 'object' },
    run: async (payload: { orderId: string; cents: number }, { signal, attempt }) => {
      expect(signal).type.toBe<AbortSignal>()
      expect(attempt).type.toBe<number>()
      return { charged: payload.cents }
    },
  })
  expect(charge).type.toBe<TaskDefinition<{ orderId: string; cents: number }, { charged: number }>>()
  expect(Scheduler).type.toBeConstructableWith({ tasks: [charge], compileSchema: () => () => undefined })
  expect(scheduler.spawn(charge, { orderId: 'o', cents: 1 })).type.toBe<TaskHandle<{ charged: number }>>()
  expect(scheduler.trySpawn(charge, { orderId: 'o', cents: 1 })).type.toBe<TaskHandle<{ charged: number }> | undefined>()
  expect(scheduler.spawn).type.not.toBeCallableWith(charge, { orderId: 'o' })
  expect(scheduler.spawn).type.not.toBeCallableWith(charge, { orderId: 'o', cents: '1' })
  expect(scheduler.spawn(charge, { orderId: 'o', cents: 1 }, { priority: 'high' })).type.toBe<TaskHandle<{ charged: number }>>()
  // Without a type on run's payload, any payload goes (JSON is still checked at run time).
  const loose = defineTask('loose', { run: () => 1 })
  expect(scheduler.spawn(loose, { anything: [1] })).type.toBe<TaskHandle<number>>()
})
