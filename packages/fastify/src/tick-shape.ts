/**
 * Keeps Node's `process.nextTick` fast for the whole process: evaluated first of this package's
 * modules (`index.ts` imports it before anything else), for its one side effect.
 *
 * Why. Every `process.nextTick` builds its tick object from one object literal whose first keys are
 * symbols. V8 remembers the hidden classes ("maps") that literal produced, but holds them weakly, and
 * a map lives only while some object has it. When no tick object is alive (an idle process, or while
 * an app loads its modules) a full garbage collection frees those maps; the next `nextTick` makes new
 * ones, and after a few such cycles the literal's property sites turn megamorphic, for good. From
 * then on every tick object is built in the V8 runtime: on a Fastify hello world that is +3–4 µs of
 * CPU per request (about a third), in every process that loaded enough code at startup to run a few
 * full collections, whether it uses this package or not. Measured in `docs/benchmarks.md`.
 *
 * What. One tick object is kept alive: ours, read back with `executionAsyncResource()` inside its own
 * callback. Its maps then never die and the literal stays monomorphic. The cost is one small object
 * for the life of the process. It cannot repair a process where the sites already turned megamorphic
 * before this package was imported; importing it early is what helps.
 */
import { executionAsyncResource } from 'node:async_hooks'

/** The tick object kept alive (set on the first turn of the event loop after this module loads). */
let kept: object | undefined

process.nextTick(() => {
  kept = executionAsyncResource()
})

/** The tick object this module keeps alive, once it has run: for the tests. */
export function keptTickObject(): object | undefined {
  return kept
}
