import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

// Every export is semver surface: adding or removing one must be a decision, made here on purpose
// (and written in CHANGELOG.md), not a side effect of an edit to index.ts. The machinery (monitor,
// backpressure, metrics, the app.tasks and request.tasks classes) is not among them: the plugin makes
// it, and users see it through types.
describe('the public surface of fastify-tasks', () => {
  it('exports exactly these values', async () => {
    const exported = Object.keys(await import('../src/index.js')).sort()
    assert.deepEqual(exported, [
      'AdmissionError',
      'AlreadyRegisteredError',
      'BackendUnavailableError',
      'ClosingError',
      'DEFAULT_DURATION_BUCKETS',
      'DEFAULT_HTTP_BUCKETS',
      'DEFAULT_MAX_PAYLOAD_BYTES',
      'DEFAULT_QUEUE_WAIT_BUCKETS',
      'DebugForbiddenError',
      'DebugUnauthorizedError',
      'DecoratorTakenError',
      'ERROR_CODES',
      'ESSENTIAL_ROUTE',
      'EXIT_CODES',
      'InvalidOptionError',
      'InvalidParameterError',
      'InvalidPayloadError',
      'InvalidResultError',
      'NotDurableError',
      'OverloadedError',
      'OverloadedRequestError',
      'PayloadTooLargeError',
      'QueueFullError',
      'TaskAbortedError',
      'TaskNotCancellableError',
      'TaskNotFoundError',
      'TasksError',
      'UnknownTaskError',
      'debugRoutes',
      'default',
      'defineTask',
      'fastifyTasks',
      'listenGracefully',
      'loopbackOnly',
      'metricsRoute',
    ])
  })
})
