import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { startRedis, type RedisServer } from '@fastify-tasks/redis-server'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url))
/** The versions a consumer gets from the registry, pinned so the test checks our packages, not theirs. */
const CONSUMER_DEPENDENCIES = ['fastify@5.12.8', 'typescript@5.9.3', '@types/node@20.19.43']
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const pnpm = process.platform === 'win32' ? 'pnpm.cmd' : 'pnpm'

/** Runs a command; returns its output, or fails the test with everything it printed. */
function run(command: string, args: readonly string[], cwd: string, timeout = 180_000, env: Record<string, string> = {}): string {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    timeout,
    env: { ...process.env, npm_config_update_notifier: 'false', ...env },
  })
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`
  assert.equal(
    result.status,
    0,
    `${command} ${args.join(' ')} (in ${cwd}) exited ${String(result.status)} ${result.error?.message ?? ''}\n${output}`,
  )
  return output
}

function tarball(directory: string, name: string): string {
  const file = readdirSync(directory).find((f) => f.startsWith(name) && f.endsWith('.tgz'))
  assert.ok(file !== undefined, `${name}*.tgz packed into ${directory}`)
  return join(directory, file)
}

function contents(file: string): string[] {
  return execFileSync('tar', ['-tzf', file], { encoding: 'utf8' }).split('\n').filter(Boolean)
}

function manifest(file: string): Record<string, unknown> {
  return JSON.parse(execFileSync('tar', ['-xzOf', file, 'package/package.json'], { encoding: 'utf8' })) as Record<string, unknown>
}

describe(`the packed packages, installed with npm outside the workspace (Node ${process.version})`, { timeout: 600_000 }, () => {
  let work: string
  let project: string
  let coreTgz: string
  let pluginTgz: string
  let bullmqTgz: string

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'fastify-tasks-packaging-'))
    const packed = join(work, 'packed')
    run(pnpm, ['pack', '--pack-destination', packed], join(ROOT, 'packages/core'))
    run(pnpm, ['pack', '--pack-destination', packed], join(ROOT, 'packages/fastify'))
    run(pnpm, ['pack', '--pack-destination', packed], join(ROOT, 'packages/bullmq'))
    coreTgz = tarball(packed, 'fastify-tasks-core-')
    pluginTgz = tarball(packed, 'fastify-tasks-0')
    bullmqTgz = tarball(packed, 'fastify-tasks-bullmq-')
    // A fresh project, as the getting-started guide makes it.
    project = join(work, 'consumer')
    run('mkdir', ['-p', project], work)
    run(npm, ['init', '-y'], project)
    run(npm, ['pkg', 'set', 'type=module'], project)
    // --prefer-offline: what an earlier run (another Node version) fetched is taken from npm's cache
    // without asking the registry again, so one flaky fetch does not fail every version.
    run(
      npm,
      ['install', '--no-audit', '--no-fund', '--prefer-offline', coreTgz, pluginTgz, bullmqTgz, ...CONSUMER_DEPENDENCIES],
      project,
      300_000,
    )
    for (const file of readdirSync(FIXTURES)) copyFileSync(join(FIXTURES, file), join(project, file))
  })

  after(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true })
  })

  it('each tarball holds its README, LICENSE, built code, types, and the sources its maps point at; no tests', () => {
    for (const file of [coreTgz, pluginTgz, bullmqTgz]) {
      const entries = contents(file)
      for (const expected of [
        'package/README.md',
        'package/LICENSE',
        'package/package.json',
        'package/dist/index.js',
        'package/dist/index.d.ts',
        'package/dist/index.js.map',
        'package/src/index.ts',
      ]) {
        assert.ok(entries.includes(expected), `${file} holds ${expected}`)
      }
      assert.ok(!entries.some((e) => e.includes('/test/') || e.endsWith('.tsbuildinfo')), `${file} ships no tests or build info`)
      // Every source map points at a file in the tarball.
      for (const map of entries.filter((e) => e.endsWith('.map'))) {
        const { sources } = JSON.parse(execFileSync('tar', ['-xzOf', file, map], { encoding: 'utf8' })) as { sources: string[] }
        for (const source of sources) {
          const resolved = join(map.slice(0, map.lastIndexOf('/')), source).replace(/\\/g, '/')
          assert.ok(entries.includes(resolved), `${map} points at ${resolved}, which is in the tarball`)
        }
      }
    }
  })

  it('each manifest has what the registry shows and npm needs: no workspace: protocol, ranges, engines, repository', () => {
    for (const file of [coreTgz, pluginTgz, bullmqTgz]) {
      const m = manifest(file)
      assert.doesNotMatch(JSON.stringify(m), /workspace:/, `${file}: npm refuses the workspace: protocol`)
      for (const field of ['description', 'license', 'repository', 'keywords', 'engines', 'exports', 'main', 'types']) {
        assert.ok(m[field] !== undefined, `${file} has ${field}`)
      }
      assert.deepEqual(m['engines'], { node: '>=20.19' })
    }
    const plugin = manifest(pluginTgz)
    const dependencies = plugin['dependencies'] as Record<string, string>
    for (const [name, range] of Object.entries(dependencies)) {
      if (name === '@fastify-tasks/core') assert.equal(range, manifest(coreTgz)['version'], 'released together: the exact core version')
      else assert.match(range, /^\^\d/, `${name}: a caret range, so apps can dedupe (${range})`)
    }
    assert.deepEqual(plugin['peerDependencies'], { fastify: '^5.0.0' })
    const backend = manifest(bullmqTgz)
    const backendDependencies = backend['dependencies'] as Record<string, string>
    assert.equal(backendDependencies['@fastify-tasks/core'], manifest(coreTgz)['version'], 'released together: the exact core version')
    assert.match(backendDependencies['bullmq']!, /^\^6\./)
    assert.match(backendDependencies['ioredis']!, /^\^5\./)
  })

  it('the BullMQ backend from its tarball: a request persists a named task in Redis, the process runs it; one copy of the core', async () => {
    const redis: RedisServer = await startRedis()
    try {
      const output = run(process.execPath, ['durable.mjs'], project, 60_000, { REDIS_URL: redis.url })
      assert.deepEqual(JSON.parse(output.trim().split('\n').pop()!), { refused: true, admitted: true, ran: true })
    } finally {
      await redis.close()
    }
  })

  it('an ES module script uses the plugin: request tasks, a named task (schema, retry), /debug/tasks, /metrics, the testing clock, the shared checks', () => {
    const output = run(process.execPath, ['esm.mjs'], project)
    assert.deepEqual(JSON.parse(output.trim().split('\n').pop()!), {
      order: true,
      debug: true,
      metrics: true,
      scheduler: true,
      testing: true,
      validation: true,
      named: true,
    })
  })

  it('a CommonJS script requires the packages and the validation entry (Node 20.19+, 22.12+, 24)', () => {
    const output = run(process.execPath, ['cjs.cjs'], project)
    assert.deepEqual(JSON.parse(output.trim().split('\n').pop()!), { plugin: true, core: true, validation: true })
  })

  for (const [name, compilerOptions] of [
    ['nodenext', { module: 'nodenext', moduleResolution: 'nodenext' }],
    ['node16', { module: 'node16', moduleResolution: 'node16' }],
    ['bundler', { module: 'esnext', moduleResolution: 'bundler' }],
  ] as const) {
    it(`TypeScript under moduleResolution ${name}, skipLibCheck off: typed through declaration merging, error classes not any`, () => {
      const tsconfig = join(project, `tsconfig.${name}.json`)
      writeFileSync(
        tsconfig,
        JSON.stringify({
          compilerOptions: { ...compilerOptions, target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] },
          files: ['app.mts'],
        }),
      )
      const result = spawnSync(process.execPath, [join(project, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], {
        cwd: project,
        encoding: 'utf8',
        timeout: 180_000,
      })
      // app.mts marks its wrong lines with @ts-expect-error: an `any` would leave one unused (TS2578).
      assert.equal(result.status, 0, `tsc -p tsconfig.${name}.json:\n${result.stdout}${result.stderr}`)
    })
  }

  it('the type check can fail: a wrong property on an error class is reported', () => {
    const broken = readFileSync(join(project, 'app.mts'), 'utf8').replace('// @ts-expect-error QueueFullError has no such property\n', '')
    writeFileSync(join(project, 'broken.mts'), broken)
    writeFileSync(
      join(project, 'tsconfig.broken.json'),
      JSON.stringify({
        compilerOptions: { module: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] },
        files: ['broken.mts'],
      }),
    )
    const result = spawnSync(
      process.execPath,
      [join(project, 'node_modules/typescript/bin/tsc'), '-p', join(project, 'tsconfig.broken.json')],
      { cwd: project, encoding: 'utf8', timeout: 180_000 },
    )
    assert.notEqual(result.status, 0)
    assert.match(result.stdout, /Property 'notAProperty' does not exist on type/)
  })
})
