/** A unit of work handed to every contender. It takes no argument, so every API can run it as is. */
export type Task = () => Promise<number>

export type TaskKindId = 'immediate' | 'setImmediate'

export interface TaskKind {
  readonly id: TaskKindId
  readonly label: string
  readonly task: Task
}

/** Resolves at once: measures pure bookkeeping. */
export const resolveAtOnce: Task = async () => 1

/** Yields one macrotask turn: tasks overlap, so the queue really fills and drains. */
export const yieldOneTurn: Task = async () => {
  await new Promise<void>((resolve) => setImmediate(resolve))
  return 1
}

export const TASK_KINDS: readonly TaskKind[] = [
  { id: 'immediate', label: 'resolve at once', task: resolveAtOnce },
  { id: 'setImmediate', label: 'await setImmediate', task: yieldOneTurn },
]
