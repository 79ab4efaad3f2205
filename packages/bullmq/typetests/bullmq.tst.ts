import { expect, test } from 'tstyche'
import { Scheduler, type TaskBackend } from '@fastify-tasks/core'
import { Redis } from 'ioredis'
import { bullmqBackend, type BullmqBackend, type BullmqBackendOptions } from '@fastify-tasks/bullmq'

test('bullmqBackend makes a task backend from a URL, ioredis options or an ioredis client', () => {
  expect(bullmqBackend({ connection: 'redis://127.0.0.1:6380' })).type.toBe<BullmqBackend>()
  expect(bullmqBackend({ connection: { host: '127.0.0.1', port: 6380, tls: {} } })).type.toBe<BullmqBackend>()
  expect(bullmqBackend).type.toBeCallableWith({ connection: new Redis({ lazyConnect: true }) })
  expect<BullmqBackend>().type.toBeAssignableTo<TaskBackend>()
  expect(Scheduler).type.toBeConstructableWith({ backend: bullmqBackend({ connection: 'redis://127.0.0.1:6380' }) })
})

test('its options are checked by type: a role is one of three, a connection is required', () => {
  expect(bullmqBackend).type.not.toBeCallableWith({})
  expect(bullmqBackend).type.not.toBeCallableWith({ connection: 'redis://x', role: 'worker' })
  expect<BullmqBackendOptions['role']>().type.toBe<'both' | 'producer' | 'consumer' | undefined>()
})
