import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { InvalidOptionError } from '@fastify-tasks/core'
import { Cluster } from 'ioredis'
import { Cluster as Cluster6 } from 'ioredis6'
import { bullmqBackend } from '../src/index.js'
import { resolveBackendOptions } from '../src/options.js'

function refused(options: unknown, option: string, expected: RegExp): void {
  assert.throws(
    () => bullmqBackend(options as never),
    (error: unknown) => {
      assert.ok(error instanceof InvalidOptionError, String(error))
      assert.equal(error.option, option)
      assert.match(error.expected, expected)
      return true
    },
  )
}

describe('bullmqBackend options', () => {
  it('refuses what would connect somewhere else or break BullMQ, naming the option', () => {
    refused({ connection: '127.0.0.1:6380' }, 'bullmqBackend(options.connection)', /redis:\/\/ or rediss:\/\/ URL/)
    refused({ connection: 'http://127.0.0.1:6380' }, 'bullmqBackend(options.connection)', /redis:\/\//)
    refused({ connection: 6380 }, 'bullmqBackend(options.connection)', /URL, ioredis options, an ioredis client or an ioredis Cluster/)
    refused({}, 'bullmqBackend(options.connection)', /URL/)
    refused({ connection: 'redis://127.0.0.1:6380', role: 'worker' }, 'bullmqBackend(options.role)', /both|producer|consumer/)
    refused({ connection: 'redis://127.0.0.1:6380', queue: 'a:b' }, 'bullmqBackend(options.queue)', /without ":"/)
    refused({ connection: 'redis://127.0.0.1:6380', concurrency: 0 }, 'bullmqBackend(options.concurrency)', /integer/)
    refused({ connection: 'redis://127.0.0.1:6380', lockDuration: 10 }, 'bullmqBackend(options.lockDuration)', /999/)
    refused({ connection: 'redis://127.0.0.1:6380', retention: { done: {} } }, 'bullmqBackend(options.retention).done', /./)
    refused({ connection: 'redis://127.0.0.1:6380', onError: 'log' }, 'bullmqBackend(options.onError)', /function/)
    refused({ connection: 'redis://127.0.0.1:6380', conection: 'x' }, 'bullmqBackend(options).conection', /connection/)
  })

  it('recognises a client or cluster of another copy or version of ioredis; refuses an instance of anything else rather than read it as options', () => {
    const cluster6 = new Cluster6([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true })
    try {
      refused({ connection: cluster6, prefix: 'bull' }, 'bullmqBackend(options.prefix)', /hash tag/)
      assert.equal(resolveBackendOptions({ connection: cluster6 }).prefix, '{bull}')
    } finally {
      cluster6.disconnect()
    }
    class Settings {
      host = '127.0.0.1'
      port = 6380
    }
    refused({ connection: new Settings() }, 'bullmqBackend(options.connection)', /ioredis options, an ioredis client or an ioredis Cluster/)
    refused({ connection: new Map([['host', '127.0.0.1']]) }, 'bullmqBackend(options.connection)', /ioredis/)
  })

  it('with a Redis Cluster, the prefix needs a hash tag (one slot for the queue), and defaults to one', () => {
    const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true })
    try {
      refused(
        { connection: cluster, prefix: 'bull' },
        'bullmqBackend(options.prefix)',
        /hash tag, such as "\{tasks\}", with a Redis Cluster/,
      )
      refused({ connection: cluster, prefix: 'bull{}' }, 'bullmqBackend(options.prefix)', /hash tag/)
      assert.equal(resolveBackendOptions({ connection: cluster }).prefix, '{bull}')
      assert.equal(resolveBackendOptions({ connection: cluster, prefix: 'app:{tasks}' }).prefix, 'app:{tasks}')
      assert.equal(
        resolveBackendOptions({ connection: 'redis://127.0.0.1:6380', prefix: 'bull' }).prefix,
        'bull',
        'no hash tag needed without a cluster',
      )
    } finally {
      cluster.disconnect()
    }
  })

  it('has bounded defaults, and retention ages in ms become BullMQ seconds', () => {
    const o = resolveBackendOptions({ connection: 'redis://127.0.0.1:6380' })
    assert.deepEqual(
      [o.role, o.queue, o.prefix, o.concurrency, o.admissionTimeout, o.completed, o.failed, o.maxStalledCount, o.lockDuration],
      ['both', 'fastify-tasks', 'bull', 50, 2_000, { count: 1_000 }, { count: 10_000 }, 5, 30_000],
    )
    const aged = resolveBackendOptions({
      connection: { host: '127.0.0.1' },
      retention: { completed: { age: 3_600_000 }, failed: { count: 5 } },
    })
    assert.deepEqual([aged.completed, aged.failed], [{ count: 1_000, age: 3_600 }, { count: 5 }])
  })
})
