import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

// Every export is semver surface: adding or removing one must be a decision, made here on purpose
// (and written in CHANGELOG.md), not a side effect of an edit to index.ts. (Making the machinery
// below private is the architecture issue's work; this list keeps it from growing meanwhile.)
describe('the public surface of fastify-tasks', () => {
  it('exports exactly these values', async () => {
    const exported = Object.keys(await import('../src/index.js')).sort()
    assert.deepEqual(exported, [
      'AdmissionError', 'AlreadyRegisteredError', 'Backpressure', 'ClosingError', 'ConcurrencyController',
      'DEFAULT_DURATION_BUCKETS', 'DEFAULT_HTTP_BUCKETS', 'DEFAULT_QUEUE_WAIT_BUCKETS', 'DebugForbiddenError',
      'DebugUnauthorizedError', 'DecoratorTakenError', 'ERROR_CODES', 'ESSENTIAL_ROUTE', 'EXIT_CODES', 'EventLoopMonitor',
      'InvalidOptionError', 'InvalidParameterError', 'OTHER_TASKS', 'OverloadDetector', 'OverloadedError', 'OverloadedRequestError',
      'QueueFullError', 'RequestTasks', 'TaskAbortedError', 'TaskMetrics', 'TaskNotCancellableError', 'TaskNotFoundError',
      'TaskScheduler', 'TasksError', 'UNMATCHED_ROUTE', 'debugRoutes', 'default', 'fastifyTasks', 'listenGracefully',
      'loopbackOnly', 'metricsRoute',
    ])
  })
})
