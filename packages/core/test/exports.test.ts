import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

// Every export is semver surface: adding or removing one must be a decision, made here on purpose
// (and written in CHANGELOG.md), not a side effect of an edit to index.ts.
describe('the public surface of @fastify-tasks/core', () => {
  it('exports exactly these values', async () => {
    const exported = Object.keys(await import('../src/index.js')).sort()
    assert.deepEqual(exported, [
      'AdmissionError',
      'BackendUnavailableError',
      'ClosingError',
      'DEFAULTS',
      'DEFAULT_LIST_LIMIT',
      'DEFAULT_MAX_PAYLOAD_BYTES',
      'InvalidOptionError',
      'InvalidPayloadError',
      'InvalidResultError',
      'MAX_LIST_LIMIT',
      'NotDurableError',
      'OverloadedError',
      'PRIORITIES',
      'PayloadTooLargeError',
      'QueueFullError',
      'Scheduler',
      'TaskAbortedError',
      'TasksError',
      'UnknownTaskError',
      'defineTask',
      'systemClock',
    ])
  })

  it('@fastify-tasks/core/testing exports exactly these values', async () => {
    assert.deepEqual(Object.keys(await import('../src/testing.js')).sort(), ['ManualClock'])
  })

  it('@fastify-tasks/core/validation exports exactly these values', async () => {
    assert.deepEqual(Object.keys(await import('../src/validation.js')).sort(), [
      'ANY_TASK_ID_PATTERN',
      'TASK_ID_PATTERN',
      'checkArray',
      'checkBoolean',
      'checkDuration',
      'checkFunction',
      'checkInteger',
      'checkKnownKeys',
      'checkNumber',
      'checkObject',
      'checkObjectOrFalse',
      'checkOneOf',
      'checkString',
      'isAnyTaskId',
      'isTaskId',
    ])
  })
})
