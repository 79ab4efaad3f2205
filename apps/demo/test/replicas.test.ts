import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

const SCRIPT = fileURLToPath(new URL('../src/replicas.ts', import.meta.url))

/** The documented two-replica run, as a user runs it (its own redis-server on a free loopback port). */
describe('the demo on Redis: an API replica and two workers (pnpm demo:replicas)', () => {
  it('tasks spawned on the API run on the workers, and a SIGKILL of one worker loses none', { timeout: 120_000 }, () => {
    const env = { ...process.env }
    delete env['REDIS_URL']
    const result = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT], { encoding: 'utf8', timeout: 110_000, env })
    const output = `${result.stdout}${result.stderr}`
    assert.equal(result.status, 0, output)
    assert.match(output, /60 orders to the API: it spawned \d+ tasks into Redis and ran none itself \(spawned 0\)/)
    assert.match(output, /worker-1 killed with SIGKILL after it had started [1-9]\d* tasks/)
    assert.match(output, /Redis: [1-9]\d* completed, \d+ failed \(timed out or out of retries\), none waiting or active/)
    assert.match(output, /worker-2 ran [1-9]\d* tasks/)
  })
})
