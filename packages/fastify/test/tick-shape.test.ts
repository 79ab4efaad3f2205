import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { keptTickObject } from '../src/tick-shape.js'

const PROBE = fileURLToPath(new URL('./fixtures/tick-shape-probe.mjs', import.meta.url))

/** The states V8 reports for the object-literal property sites of process.nextTick, in a fresh process. */
function literalSites(mode: 'with' | 'without'): string[] {
  // V8 prints straight to the process's stdout: a file, not a pipe, so that nothing is cut short.
  const dir = mkdtempSync(join(tmpdir(), 'tick-shape-'))
  try {
    const out = openSync(join(dir, 'stdout'), 'w')
    let run
    try {
      run = spawnSync(process.execPath, ['--expose-gc', '--allow-natives-syntax', PROBE, mode], {
        stdio: ['ignore', out, 'pipe'],
        encoding: 'utf8',
        timeout: 30_000,
      })
    } finally {
      closeSync(out)
    }
    assert.equal(run.status, 0, `probe (${mode}) failed: ${run.stderr}`)
    const printed = readFileSync(join(dir, 'stdout'), 'utf8')
    return [...printed.matchAll(/DefineKeyedOwnPropertyInLiteral (\w+)/g)].map((match) => match[1]!)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

test('without the package, full collections while no tick object lives make process.nextTick megamorphic (the control)', () => {
  const sites = literalSites('without')
  assert.ok(sites.length >= 3, `expected V8 to print the literal's sites, got ${JSON.stringify(sites)}`)
  assert.ok(sites.includes('MEGAMORPHIC'), `expected a megamorphic site, got ${JSON.stringify(sites)}`)
})

test('with the package imported, process.nextTick stays monomorphic through the same collections', () => {
  const sites = literalSites('with')
  assert.ok(sites.length >= 3, `expected V8 to print the literal's sites, got ${JSON.stringify(sites)}`)
  assert.deepEqual(new Set(sites), new Set(['MONOMORPHIC']))
})

test('the kept tick object is set once the event loop has turned', async () => {
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(typeof keptTickObject(), 'object')
})
