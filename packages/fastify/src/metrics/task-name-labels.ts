import { truncate } from '../truncate.js'

/** The label value for task names past the cap. */
export const OTHER_TASKS = '__other__'

/** Longest task name used as a label value (longer ones are cut and marked with `…`). */
const MAX_LABEL_LENGTH = 100

/**
 * Task names as metric label values, bounded: the first `max` distinct names keep their own value,
 * later ones share {@link OTHER_TASKS}, so a bug that spawns unique names cannot explode cardinality.
 */
export class TaskNameLabels {
  readonly max: number
  readonly #known = new Map<string, string>()

  constructor(max: number) {
    this.max = max
  }

  /** The label value for `name`. */
  label(name: string): string {
    const known = this.#known.get(name)
    if (known !== undefined) return known
    if (this.#known.size >= this.max) return OTHER_TASKS
    const value = truncate(name, MAX_LABEL_LENGTH)
    this.#known.set(name, value)
    return value
  }
}
