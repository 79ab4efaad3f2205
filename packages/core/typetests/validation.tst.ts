import { expect, test } from 'tstyche'
import type { AdmissionCheck, Priority } from '@fastify-tasks/core'
import { PRIORITIES } from '@fastify-tasks/core'
import { checkFunction, checkObjectOrFalse, checkOneOf, isTaskId } from '@fastify-tasks/core/validation'

declare const value: unknown

test('checkOneOf returns the union of its words', () => {
  expect(checkOneOf('onOverload', value, ['reject', 'defer'])).type.toBe<'reject' | 'defer'>()
  expect(checkOneOf('priority', value, PRIORITIES)).type.toBe<Priority>()
})

test('checkFunction returns the function type the caller names', () => {
  expect(checkFunction<AdmissionCheck>('admission', value)).type.toBe<AdmissionCheck>()
  expect(checkFunction<AdmissionCheck>).type.not.toBeCallableWith('admission', value, 42)
})

test('checkObjectOrFalse keeps false apart from an object', () => {
  expect(checkObjectOrFalse('metrics', value)).type.toBe<Record<string, unknown> | false>()
})

test('isTaskId narrows to a string', () => {
  if (isTaskId(value)) expect(value).type.toBe<string>()
})
