import { expect, test } from 'tstyche'
import {
  Scheduler,
  type AdmissionError,
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
  if (settlement.outcome === 'dropped') expect(settlement.reason).type.toBe<'overflow' | 'shutdown'>()
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
  expect<AdmissionError['reason']>().type.toBe<'queue_full' | 'overloaded' | 'closing'>()
})

test('error codes are a closed union; an admission error has a refusal code, and nothing of HTTP', () => {
  expect<ErrorCode>().type.toBe<'FT_QUEUE_FULL' | 'FT_OVERLOADED' | 'FT_CLOSING' | 'FT_INVALID_OPTION' | 'FT_TASK_ABORTED'>()
  expect<AdmissionError['code']>().type.toBe<'FT_QUEUE_FULL' | 'FT_OVERLOADED' | 'FT_CLOSING'>()
  expect<AdmissionError>().type.not.toHaveProperty('statusCode')
  expect<AdmissionError>().type.not.toHaveProperty('headers')
})
