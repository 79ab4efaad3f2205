import { setTimeout as sleep } from 'node:timers/promises'

/** Resolves when `condition` holds, checking every 10 ms, at most `ms` ms of waits; else throws. */
export async function until(condition: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  for (let waited = 0; waited < ms; waited += 10) {
    if (await condition()) return
    await sleep(10)
  }
  throw new Error(`condition not met within ${ms} ms`)
}
