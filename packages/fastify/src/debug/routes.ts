import { InvalidOptionError, MAX_LIST_LIMIT, type LiveState } from '@fastify-tasks/core'
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify'
import { ESSENTIAL_ROUTE } from '../backpressure/backpressure.js'
import { loopbackOnly, resolveGuard, type DebugGuard } from '../guard.js'
import { groupsReport, historyReport, tasksReport } from './report.js'
import { groupsText, historyText, tasksText } from './text.js'
import { InvalidParameterError, TaskNotCancellableError, TaskNotFoundError } from '../errors.js'
import { ANY_TASK_ID_PATTERN, checkKnownKeys, isAnyTaskId, isTaskId, TASK_ID_PATTERN } from '@fastify-tasks/core/validation'

/** Options of the `/debug/tasks` route plugin. */
export interface DebugRoutesOptions {
  /**
   * Path of the routes, under the plugin's prefix.
   * @default '/debug/tasks'
   */
  path?: string
  /**
   * Adds `DELETE {path}/:id` and `DELETE {path}?name=…`, which cancel with reason `operator`.
   * Without it those routes do not exist (404).
   * @default false
   */
  cancel?: boolean
  /**
   * Requires `Authorization: Bearer <token>` instead of a loopback peer. Give `token` or `guard`,
   * not both.
   */
  token?: string
  /**
   * Your own `onRequest` check instead of the loopback rule: throw (or reply) to refuse. Give `token`
   * or `guard`, not both.
   */
  guard?: DebugGuard
  /**
   * Most groups in one response (largest first); the rest are counted in `groupsOmitted`.
   * @default 200
   */
  maxGroups?: number
}

const STATE_LIST = '^(pending|running|aborting)(,(pending|running|aborting))*$'

interface ListQuerystring {
  view?: 'groups' | 'tasks' | 'history'
  format?: 'json' | 'text'
  state?: string
  name?: string
  olderThan?: number
  limit?: number
  cursor?: string
}

/**
 * A 400 (`FT_INVALID_PARAMETER`) naming the query (or path) parameter as Fastify's own validation
 * messages do (`querystring/limit`), what it must be, and what arrived (see {@link shownValue}).
 */
function badQuery(parameter: string, expected: string, received: string, where: 'querystring' | 'params' = 'querystring'): Error {
  return new InvalidParameterError(`${where}/${parameter}`, expected, received)
}

/** A parameter's value as written, for a message: quoted and cut at 60 characters; a repeated one counted. */
function shownValue(raw: unknown): string {
  if (typeof raw === 'string') return JSON.stringify(raw.length > 60 ? `${raw.slice(0, 57)}...` : raw)
  if (Array.isArray(raw)) return `${raw.length} values (a repeated parameter)`
  return typeof raw
}

/**
 * The scheduler re-checks every value; one that slipped past the checks here is the caller's
 * mistake: 400 naming the parameter (`list(query.limit)`, `history(limit)` → `limit`), not 500.
 */
function asBadRequest<T>(run: () => T): T {
  try {
    return run()
  } catch (error) {
    if (error instanceof InvalidOptionError) {
      const parameter = /(?:\.|\()(\w+)\)$/.exec(error.option)?.[1] ?? error.option
      throw badQuery(parameter, error.expected, error.received)
    }
    throw error
  }
}

/** The numeric query parameters, every view: integers in [min, max]. */
const NUMERIC_QUERY = {
  olderThan: { min: 0, max: 1e12 },
  limit: { min: 1, max: MAX_LIST_LIMIT },
} as const

/**
 * Checks the numeric parameters as the client wrote them, before the schema coerces them: AJV turns
 * `Infinity`, `1e309`, `0x10`, ` 5` and `+5` into numbers, and lets a non-finite one past `integer`,
 * `minimum` and `maximum`. Only plain decimal digits are accepted (at most 15), within the range.
 */
function checkNumericQuery(query: Record<string, unknown>): void {
  for (const [parameter, { min, max }] of Object.entries(NUMERIC_QUERY)) {
    const raw = query[parameter]
    if (raw === undefined) continue
    const value =
      typeof raw === 'string' && /^[0-9]{1,15}$/.test(raw) ? Number(raw) : typeof raw === 'number' && Number.isInteger(raw) ? raw : NaN
    if (!(value >= min && value <= max)) throw badQuery(parameter, `an integer from ${min} to ${max}, in decimal digits`, shownValue(raw))
  }
}

/** The parameters that take one of a few words: a bad one is answered with the words it can be. */
const WORD_QUERY = {
  view: ['groups', 'tasks', 'history'],
  format: ['json', 'text'],
} as const

function checkWordQuery(query: Record<string, unknown>): void {
  for (const [parameter, words] of Object.entries(WORD_QUERY)) {
    const raw = query[parameter]
    if (raw === undefined) continue
    if (typeof raw !== 'string' || !(words as readonly string[]).includes(raw))
      throw badQuery(parameter, `one of ${words.join(', ')}`, shownValue(raw))
  }
  const state = query['state']
  if (state !== undefined && (typeof state !== 'string' || !new RegExp(STATE_LIST).test(state))) {
    throw badQuery('state', 'pending, running or aborting, or a comma-separated list of them', shownValue(state))
  }
  const cursor = query['cursor']
  if (cursor !== undefined && !isTaskId(cursor)) {
    throw badQuery('cursor', 'the nextCursor of a previous page (decimal digits)', shownValue(cursor))
  }
}

/** `preValidation` of `GET {path}`: checks the query as the client wrote it, with messages that say what would do. */
async function numericQuery(request: FastifyRequest): Promise<void> {
  const query = request.query as Record<string, unknown>
  checkWordQuery(query)
  checkNumericQuery(query)
}

const querystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    view: { type: 'string', enum: ['groups', 'tasks', 'history'] },
    format: { type: 'string', enum: ['json', 'text'] },
    state: { type: 'string', pattern: STATE_LIST, maxLength: 40 },
    name: { type: 'string', minLength: 1, maxLength: 1_000 },
    olderThan: { type: 'integer', minimum: 0, maximum: 1e12 },
    limit: { type: 'integer', minimum: 1, maximum: MAX_LIST_LIMIT },
    cursor: { type: 'string', pattern: TASK_ID_PATTERN },
  },
} as const

function checkOptions(
  options: DebugRoutesOptions,
): Required<Pick<DebugRoutesOptions, 'path' | 'cancel' | 'maxGroups'>> & { guard: DebugGuard } {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('debug', 'an object', options)
  checkKnownKeys('debug', options, ['path', 'cancel', 'token', 'guard', 'maxGroups', 'prefix', 'logLevel', 'logSerializers'])
  const { path = '/debug/tasks', cancel = false, token, guard, maxGroups = 200 } = options
  if (typeof path !== 'string' || !path.startsWith('/') || path.endsWith('/')) {
    throw new InvalidOptionError('debug.path', "a path starting with '/' and not ending with '/'", path)
  }
  if (typeof cancel !== 'boolean') throw new InvalidOptionError('debug.cancel', 'a boolean', cancel)
  if (typeof maxGroups !== 'number' || !Number.isInteger(maxGroups) || maxGroups < 1 || maxGroups > 10_000) {
    throw new InvalidOptionError('debug.maxGroups', 'an integer from 1 to 10000', maxGroups)
  }
  return { path, cancel, maxGroups, guard: resolveGuard('debug', token, guard, loopbackOnly) }
}

/**
 * `GET /debug/tasks`: what is alive, grouped, in one screen (`?format=text` for a terminal),
 * `?view=tasks` one row per live task, `?view=history` recently terminated ones; optionally
 * `DELETE` to cancel. Encapsulated: mount it under a prefix or behind your own hooks. Answers
 * loopback peers only unless given a `token` or a `guard`. Needs fastify-tasks registered on a
 * parent (the default export registers this plugin for you unless `debug: false`).
 */
export const debugRoutes: FastifyPluginAsync<DebugRoutesOptions> = async (fastify: FastifyInstance, rawOptions) => {
  const options = checkOptions(rawOptions)
  if (!fastify.hasDecorator('tasks')) {
    throw new InvalidOptionError('debugRoutes', 'fastify-tasks registered on this instance or a parent first', 'none')
  }
  const scheduler = fastify.tasks
  const guard = options.guard
  fastify.addHook('onRequest', async (request, reply) => {
    await guard(request, reply)
  })

  fastify.get<{ Querystring: ListQuerystring }>(
    options.path,
    { schema: { querystring }, preValidation: numericQuery, config: { ...ESSENTIAL_ROUTE } },
    async (request, reply) => {
      const q = request.query
      const text = q.format === 'text'
      void reply.header('cache-control', 'no-store')
      if (text) void reply.type('text/plain; charset=utf-8')
      switch (q.view ?? 'groups') {
        case 'groups': {
          // On a durable backend, its job counts and schedules (one round trip each, together,
          // bounded by the backend's own timeout).
          const [jobs, schedules] = await Promise.all([scheduler.backendJobs(), scheduler.backendSchedules(options.maxGroups)])
          const report = groupsReport(scheduler, options.maxGroups, jobs, schedules)
          return text ? groupsText(report) : report
        }
        case 'tasks': {
          const state = q.state === undefined ? undefined : (q.state.split(',') as LiveState[])
          const report = tasksReport(
            asBadRequest(() =>
              scheduler.list({
                ...(state === undefined ? {} : { state }),
                ...(q.name === undefined ? {} : { name: q.name }),
                ...(q.olderThan === undefined ? {} : { olderThan: q.olderThan }),
                ...(q.limit === undefined ? {} : { limit: q.limit }),
                ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
              }),
            ),
          )
          return text ? tasksText(report) : report
        }
        case 'history': {
          const report = historyReport(asBadRequest(() => scheduler.history(q.limit ?? 100)))
          return text ? historyText(report) : report
        }
      }
    },
  )

  if (!options.cancel) return

  fastify.delete<{ Params: { id: string } }>(
    `${options.path}/:id`,
    {
      schema: { params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: ANY_TASK_ID_PATTERN } } } },
      preValidation: async (request) => {
        const { id } = request.params
        if (!isAnyTaskId(id)) {
          throw badQuery('id', "a task id: the decimal digits of a live task id, or a durable job's id (a UUID)", shownValue(id), 'params')
        }
      },
      config: { ...ESSENTIAL_ROUTE },
    },
    async (request) => {
      const { id } = request.params
      const task = scheduler.get(id)
      if (task === undefined) {
        // Not here: on a durable backend it may wait in the broker or run on another replica.
        const done = await scheduler.cancelAnywhere(id, 'operator')
        if (done === 'not_found') throw new TaskNotFoundError(id)
        return { cancelled: 1, id, name: null, state: done }
      }
      if (!task.cancel('operator')) throw new TaskNotCancellableError(id)
      return { cancelled: 1, id, name: task.name, state: task.state }
    },
  )

  fastify.delete<{ Querystring: { name: string } }>(
    options.path,
    {
      config: { ...ESSENTIAL_ROUTE },
      schema: {
        querystring: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 1_000 } },
        },
      },
    },
    async (request) => {
      const { name } = request.query
      const cancelled = scheduler.cancelWhere((task) => task.name === name, 'operator')
      return { cancelled, name }
    },
  )
}
