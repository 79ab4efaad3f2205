/**
 * A short walkthrough of the scheduler: background work that succeeds, fails, hangs and ignores its
 * signal; a queue that overflows; what inspection shows; and a drain that reports what it abandoned.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { AdmissionError, Scheduler } from '@fastify-tasks/core'

const tasks = new Scheduler({ concurrency: 4, maxQueue: 6, timeout: 1_000, abortGrace: 300 })
tasks.subscribe({
  settled: (task, settlement, ms) => console.log(`  settled  ${task.name.padEnd(18)} ${settlement.outcome.padEnd(9)} ${ms === null ? 'without running' : `after ${ms.toFixed(0)} ms`}`),
  leaked: (task) => console.log(`  leaked   ${task.name} ignores its abort signal`),
})

console.log('spawning background work…')
tasks.spawn('send-confirmation', async ({ signal }) => sleep(100, 'sent', { signal }))
tasks.spawn('post-analytics', async () => {
  await sleep(50)
  throw new Error('partner API answered 502')
})
tasks.spawn('refresh-cache', async ({ signal }) => sleep(5_000, undefined, { signal }), { priority: 'low' })
tasks.spawn('call-hung-partner', () => new Promise(() => {}), { timeout: 200 })
for (let i = 0; i < 10; i++) {
  try {
    tasks.spawn('resize-image', async ({ signal }) => sleep(150, undefined, { signal }))
  } catch (error) {
    if (!(error instanceof AdmissionError)) throw error
    console.log(`  refused  resize-image #${i}: ${error.reason} (HTTP ${error.statusCode}, retry after ${error.retryAfter}s)`)
  }
}

await sleep(250)
console.log('\nlive tasks, grouped (what /debug/tasks will show):')
for (const group of tasks.groups()) {
  console.log(`  ${String(group.count).padStart(3)} × ${group.name.padEnd(18)} ${group.state.padEnd(8)} oldest ${group.oldestAgeMs.toFixed(0)} ms  at ${group.site ?? '?'}`)
}
console.log('\nsummary:', JSON.stringify(tasks.summary().live))

console.log('\nclosing with a 500 ms drain budget…')
const report = await tasks.close({ timeout: 500 })
console.log(`\ndrain ${report.clean ? 'clean' : 'NOT clean'} in ${report.durationMs.toFixed(0)} ms; abandoned:`)
for (const group of report.abandoned) {
  console.log(`  ${group.count} × ${group.name} (dropped ${group.dropped}, aborted ${group.aborted}, unsettled ${group.unsettled}) at ${group.site ?? '?'}`)
}
console.log('\nhistory (newest first):')
for (const entry of tasks.history(8)) {
  console.log(`  ${entry.name.padEnd(18)} ${entry.outcome.padEnd(9)} ${entry.reason ?? ''} ${entry.error ?? ''}`)
}
