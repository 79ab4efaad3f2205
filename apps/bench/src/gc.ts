/** Throws unless the process runs with `--expose-gc`; the numbers are meaningless without it. */
export function assertGcExposed(): void {
  if (typeof globalThis.gc !== 'function') {
    throw new Error('run with `node --expose-gc` (use `pnpm bench`)')
  }
}

/** Lets pending callbacks run, then forces full collections so the next measurement starts clean. */
export async function collectGarbage(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve))
  const gc = globalThis.gc
  if (gc === undefined) throw new Error('run with `node --expose-gc` (use `pnpm bench`)')
  gc()
  gc()
}
