import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { spawnViaWrapper } from './fixtures/wrapper.js'
import { hang, manualScheduler } from './helpers.js'

/** The line this function was called from. */
function callerLine(): number {
  const frame = new Error().stack!.split('\n')[2]!
  return Number(/:(\d+):\d+\)?$/.exec(frame)![1])
}

describe('spawn site', () => {
  it('records the file:line of the caller of spawn', () => {
    const { scheduler } = manualScheduler({ spawnSite: 'always' })
    const [handle, line] = [scheduler.spawn('here', hang), callerLine()]
    assert.ok(handle.site!.endsWith(`test/spawn-site.test.ts:${line}`), handle.site)
    assert.ok(!handle.site!.startsWith('/'), 'relative to the working directory')
  })

  it('skips wrapper frames listed in siteIgnore, and records the wrapper without it', () => {
    const plain = manualScheduler({ spawnSite: 'always' }).scheduler
    assert.match(spawnViaWrapper(plain, 'w').site!, /fixtures\/wrapper\.ts:\d+$/)
    const ignoring = manualScheduler({ spawnSite: 'always', siteIgnore: ['/fixtures/wrapper'] }).scheduler
    const [handle, line] = [spawnViaWrapper(ignoring, 'w'), callerLine()]
    assert.ok(handle.site!.endsWith(`spawn-site.test.ts:${line}`), handle.site)
  })

  it('is off when asked: no site, no capture', () => {
    const { scheduler } = manualScheduler({ spawnSite: 'off' })
    assert.equal(scheduler.spawn('x', hang).site, undefined)
    assert.equal(scheduler.groups()[0]!.site, null)
  })

  it('sampled mode is exact for the first 8 spawns of a name, then samples one in 256, at most once a second', () => {
    const { scheduler, clock } = manualScheduler({ concurrency: 2_000 })
    const fromA = (): ReturnType<typeof scheduler.spawn> => scheduler.spawn('job', hang)
    const fromB = (): ReturnType<typeof scheduler.spawn> => scheduler.spawn('job', hang)
    const a = Array.from({ length: 8 }, fromA)
    const b = Array.from({ length: 248 }, fromB) // spawns 9..256 of "job", all at time 0
    const siteA = a[0]!.site
    assert.ok(a.every((h) => h.site === siteA))
    // Spawns 9..256 were not captured (the 256th came less than a second after the last capture).
    assert.ok(b.every((h) => h.site === siteA))
    clock.advance(1_000)
    const later = Array.from({ length: 256 }, fromB) // spawns 257..512
    // Spawn 512 is sampled: B.
    assert.ok(later.slice(0, 255).every((h) => h.site === siteA))
    assert.notEqual(later[255]!.site, siteA)
    assert.match(later[255]!.site!, /spawn-site\.test\.ts:\d+$/)
    // A different name is exact from its first spawn.
    const [other, line] = [scheduler.spawn('other-job', hang), callerLine()]
    assert.ok(other.site!.endsWith(`:${line}`))
  })
})
