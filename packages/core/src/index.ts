/**
 * `@fastify-tasks/core`: the task scheduler behind fastify-tasks. No HTTP, no Fastify, no I/O.
 * @packageDocumentation
 */
export { Scheduler, type CloseOptions } from './scheduler.js'
export type {
  CancelReason,
  DropReason,
  LiveState,
  Outcome,
  Release,
  Settlement,
  TaskContext,
  TaskFunction,
  TaskHandle,
  TaskState,
} from './task.js'
export {
  DEFAULTS,
  type AdmissionCheck,
  type AdmissionRequest,
  type StartGate,
  type OverflowPolicy,
  type SchedulerOptions,
  type SpawnOptions,
  type TrustedSpawnFields,
} from './options.js'
export type { SpawnSiteMode } from './spawn-site.js'
export type {
  BackendCancel,
  BackendHost,
  BackendSchedule,
  IncomingTask,
  OutgoingSchedule,
  OutgoingTask,
  TaskBackend,
} from './backends/task-backend.js'
export {
  defineTask,
  DEFAULT_MAX_PAYLOAD_BYTES,
  type AnyTaskDefinition,
  type PayloadSchema,
  type TaskDefinition,
  type TaskSpec,
} from './definitions/define-task.js'
export type { PayloadMismatch, PayloadValidator, SchemaCompiler } from './definitions/schema-compiler.js'
export type { BackoffOptions } from './definitions/backoff.js'
export type { RepeatCron, RepeatEvery, RepeatHandle, RepeatOptions, ScheduleState } from './schedules/repeat-schedule.js'
export type { LimitsOptions, RateLimit } from './limits/limits-options.js'
export type { AdaptiveLimitOptions, LimitChangeCause } from './limits/adaptive-limit.js'
export type { NameLimitState } from './limits/limit-state.js'
export { PRIORITIES, type Priority } from './priority.js'
export { systemClock, type Clock } from './clock.js'
export type { LifecycleEvent, LifecycleListener, RejectedSpawn } from './lifecycle.js'
export type { HistoryEntry } from './history.js'
export {
  DEFAULT_LIST_LIMIT,
  MAX_LIST_LIMIT,
  type AbandonedGroup,
  type BackendSummary,
  type CloseReport,
  type ListQuery,
  type SchedulerSummary,
  type TaskGroup,
  type TaskPage,
  type TaskSnapshot,
} from './inspection.js'
export {
  AdmissionError,
  BackendUnavailableError,
  ClosingError,
  InvalidOptionError,
  InvalidPayloadError,
  InvalidResultError,
  NotDurableError,
  OverloadedError,
  PayloadTooLargeError,
  QueueFullError,
  TaskAbortedError,
  TasksError,
  UnknownTaskError,
  type AbortReason,
  type ErrorCode,
  type RejectReason,
} from './errors.js'
