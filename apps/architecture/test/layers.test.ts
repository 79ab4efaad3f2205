import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const PACKAGES = ['packages/core', 'packages/fastify', 'packages/bullmq']
/** `from '…'`, `import '…'` and `import('…')`, type-only ones included. */
const SPECIFIER = /(?:\bfrom\s+|\bimport\s*\(?\s*)'([^']+)'/g

/** What a package lets others import: its name, and its name plus each subpath of its `exports` (`@fastify-tasks/core/testing`). */
function entryPoints(pkg: string): string[] {
  const manifest = JSON.parse(readFileSync(join(ROOT, pkg, 'package.json'), 'utf8')) as { name: string; exports: Record<string, unknown> }
  return Object.keys(manifest.exports)
    .filter((subpath) => subpath !== './package.json')
    .map((subpath) => (subpath === '.' ? manifest.name : `${manifest.name}${subpath.slice(1)}`))
}
const ENTRY_POINTS = new Set(PACKAGES.flatMap(entryPoints))

function sources(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name))
}

function specifiers(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(SPECIFIER)].map((m) => m[1]!)
}

/** The package's relative import graph: file → the files it imports. */
function graph(pkg: string): Map<string, string[]> {
  const src = join(ROOT, pkg, 'src')
  const edges = new Map<string, string[]>()
  for (const file of sources(src)) {
    const targets = specifiers(file)
      .filter((s) => s.startsWith('.'))
      .map((s) => join(file, '..', s.replace(/\.js$/, '.ts')))
    edges.set(file, targets)
  }
  return edges
}

/** Every cycle found by a depth-first search, each as the list of files on it. */
function cycles(edges: Map<string, string[]>): string[][] {
  const found: string[][] = []
  const state = new Map<string, 'visiting' | 'done'>()
  const path: string[] = []
  const visit = (file: string): void => {
    state.set(file, 'visiting')
    path.push(file)
    for (const next of edges.get(file) ?? []) {
      if (state.get(next) === 'visiting') found.push(path.slice(path.indexOf(next)))
      else if (state.get(next) === undefined && edges.has(next)) visit(next)
    }
    path.pop()
    state.set(file, 'done')
  }
  for (const file of edges.keys()) if (state.get(file) === undefined) visit(file)
  return found
}

describe('the layout tells the architecture', () => {
  for (const pkg of PACKAGES) {
    it(`${pkg} has no import cycle (type-only imports included)`, () => {
      const edges = graph(pkg)
      assert.ok(edges.size > 5, `read the sources of ${pkg}`)
      const found = cycles(edges).map((cycle) => cycle.map((f) => relative(join(ROOT, pkg, 'src'), f)).join(' > '))
      assert.deepEqual(found, [])
    })

    it(`${pkg} imports other packages only through their entry points`, () => {
      const deep = sources(join(ROOT, pkg, 'src')).flatMap((file) =>
        specifiers(file)
          .filter((s) => s.startsWith('@fastify-tasks/') && !ENTRY_POINTS.has(s))
          .map((s) => `${relative(ROOT, file)}: ${s}`),
      )
      assert.deepEqual(deep, [])
    })
  }

  it("the entry points are the core's exports, so a deep import is still refused", () => {
    assert.deepEqual([...ENTRY_POINTS].filter((e) => e.startsWith('@fastify-tasks/core')).sort(), [
      '@fastify-tasks/core',
      '@fastify-tasks/core/testing',
      '@fastify-tasks/core/validation',
    ])
    assert.ok(!ENTRY_POINTS.has('@fastify-tasks/core/dist/options.js'))
  })

  it('the core knows nothing of Fastify, HTTP or Prometheus', () => {
    const forbidden = /^(fastify|@fastify\/|fastify-plugin|prom-client|node:http|node:https|http|https|undici)/
    const found = sources(join(ROOT, 'packages/core/src')).flatMap((file) =>
      specifiers(file)
        .filter((s) => forbidden.test(s))
        .map((s) => `${relative(ROOT, file)}: ${s}`),
    )
    assert.deepEqual(found, [])
  })

  it('the core and the plugin never import the durable backend, BullMQ or a Redis client; the backend imports no Fastify', () => {
    const durable = /^(@fastify-tasks\/bullmq|bullmq|ioredis|redis)$/
    const web = /^(fastify|fastify-tasks|@fastify\/|fastify-plugin|prom-client)/
    const found = [
      ...['packages/core', 'packages/fastify'].flatMap((pkg) =>
        sources(join(ROOT, pkg, 'src')).flatMap((file) =>
          specifiers(file)
            .filter((s) => durable.test(s))
            .map((s) => `${relative(ROOT, file)}: ${s}`),
        ),
      ),
      ...sources(join(ROOT, 'packages/bullmq/src')).flatMap((file) =>
        specifiers(file)
          .filter((s) => web.test(s))
          .map((s) => `${relative(ROOT, file)}: ${s}`),
      ),
    ]
    assert.deepEqual(found, [])
  })

  it('the checker finds a cycle when there is one', () => {
    const edges = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ])
    assert.deepEqual(cycles(edges), [['a', 'b', 'c']])
  })
})
