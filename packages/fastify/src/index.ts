/**
 * fastify-tasks: safe, visible and drainable background tasks for Fastify.
 * @packageDocumentation
 */
// First: keeps process.nextTick monomorphic for the whole process (see the module).
import './tick-shape.js'
import { fastifyTasks } from './plugin.js'

export default fastifyTasks
export { fastifyTasks }
export { type FastifyTasksOptions } from './options.js'
// app.tasks and request.tasks: types only, the plugin makes them.
export type { AppTasks, FastifySpawnOptions } from './tasks/app-tasks.js'
export type { RequestTasks } from './tasks/request-tasks.js'
export type { BackpressureStatus, EventLoopStatus, MetricsStatus } from './tasks/parts.js'
export { defineTask, type FastifyTaskContext, type FastifyTaskDefinition, type FastifyTaskFunction } from './tasks/task-context.js'
export { listenGracefully, EXIT_CODES, type GracefulOptions, type GracefulServer } from './shutdown/graceful.js'
export type { RecycleOptions } from './shutdown/recycle.js'
export {
  ESSENTIAL_ROUTE,
  type BackpressureOptions,
  type BackpressureState,
  type UnderPressureOptions,
} from './backpressure/backpressure.js'
export type { AdaptiveConcurrencyOptions } from './backpressure/concurrency-controller.js'
export type { OverloadSignal } from './backpressure/overload-detector.js'
export type { EventLoopOptions, EventLoopSnapshot } from './backpressure/event-loop-monitor.js'
export { debugRoutes, type DebugRoutesOptions } from './debug/routes.js'
export { loopbackOnly, type DebugGuard } from './guard.js'
export type { GroupRow, GroupsReport, HistoryReport, HistoryRow, LimitRow, TaskRow, TasksReport } from './debug/report.js'
export type { MemorySnapshot } from './process-info.js'
export { metricsRoute, type MetricsRouteOptions } from './metrics/route.js'
export { DEFAULT_DURATION_BUCKETS, DEFAULT_HTTP_BUCKETS, DEFAULT_QUEUE_WAIT_BUCKETS, type MetricsOptions } from './metrics/task-metrics.js'
export {
  AlreadyRegisteredError,
  DecoratorTakenError,
  OverloadedRequestError,
  DebugForbiddenError,
  DebugUnauthorizedError,
  ERROR_CODES,
  InvalidParameterError,
  TaskNotCancellableError,
  TaskNotFoundError,
  type ErrorCode,
} from './errors.js'
// The scheduler's vocabulary, so apps need one import.
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
  DEFAULT_MAX_PAYLOAD_BYTES,
  type AbortReason,
  type AnyTaskDefinition,
  type BackendSummary,
  type TaskBackend,
  type PayloadMismatch,
  type PayloadSchema,
  type PayloadValidator,
  type RepeatHandle,
  type RepeatOptions,
  type ScheduleState,
  type SchemaCompiler,
  type BackoffOptions,
  type TaskDefinition,
  type TaskSpec,
  type AdaptiveLimitOptions,
  type CancelReason,
  type CloseReport,
  type HistoryEntry,
  type LifecycleListener,
  type LimitChangeCause,
  type LimitsOptions,
  type RateLimit,
  type NameLimitState,
  type Outcome,
  type Priority,
  type RejectReason,
  type SchedulerSummary,
  type Settlement,
  type TaskGroup,
  type TaskHandle,
  type TaskPage,
  type TaskSnapshot,
  type TaskState,
} from '@fastify-tasks/core'
