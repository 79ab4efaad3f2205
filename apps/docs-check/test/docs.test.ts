import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { checkDocs, findDocs, formatDiagnostic, readDocs } from '../src/check.js'
import { extractTsBlocks } from '../src/extract.js'
import { STAND_INS, STUB_MODULES } from '../src/stand-ins.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const packageDir = fileURLToPath(new URL('../', import.meta.url))

describe('extracting ```ts blocks', () => {
  it('finds ts blocks only, with their Markdown line, file name and opt-out reason', () => {
    const markdown = [
      '# Title', // 1
      '```ts', // 2
      '// app.ts', // 3
      'const a = 1', // 4
      '```', // 5
      '```json', // 6
      '{ "a": 1 }', // 7
      '```', // 8
      '- a list item:', // 9
      '', // 10
      '  ```ts', // 11
      '  const flush = () => 1', // 12
      '  ```', // 13
      '```ts', // 14
      '// docs-check: skip (a signature, not a statement)', // 15
      'spawn<T>(name: string): T', // 16
      '```', // 17
      '````md', // 18
      '```ts', // 19
      'not a block of its own', // 20
      '```', // 21
      '````', // 22
    ].join('\n')
    assert.deepEqual(extractTsBlocks(markdown), [
      { index: 1, line: 3, code: '// app.ts\nconst a = 1', fileName: 'app.ts', skip: null },
      { index: 2, line: 12, code: 'const flush = () => 1', fileName: null, skip: null },
      {
        index: 3,
        line: 15,
        code: '// docs-check: skip (a signature, not a statement)\nspawn<T>(name: string): T',
        fileName: null,
        skip: '(a signature, not a statement)',
      },
    ])
  })
})

describe('checking blocks', () => {
  it('reports a type error with its file, block and Markdown line, and resolves the workspace packages', { timeout: 60_000 }, async () => {
    const markdown = [
      '# A page', // 1
      '```ts', // 2
      "import fastifyTasks from 'fastify-tasks'", // 3
      'await app.register(fastifyTasks, { backpressure: { onOverload: "drop" } })', // 4
      '```', // 5
      '```ts', // 6
      "request.tasks.spawn('mail', ({ signal }) => mailer.send(receipt, { signal }), { timeout: 5_000 })", // 7
      '```', // 8
    ].join('\n')
    const result = await checkDocs({
      root,
      packageDir,
      docs: [{ path: 'docs/page.md', blocks: extractTsBlocks(markdown) }],
      standIns: STAND_INS,
      stubs: STUB_MODULES,
    })
    assert.equal(result.checked, 2)
    assert.deepEqual(
      result.diagnostics.map((d) => [d.doc, d.block, d.line, d.code]),
      [['docs/page.md', 1, 4, 'TS2769']],
      result.diagnostics.map(formatDiagnostic).join('\n'),
    )
  })
})

describe('the ```ts blocks of docs/ and README.md', () => {
  it('type-check against the workspace packages, and every opt-out says why', { timeout: 120_000 }, async (t) => {
    const paths = await findDocs(root)
    const docs = await readDocs(root, paths)
    const result = await checkDocs({ root, packageDir, docs, standIns: STAND_INS, stubs: STUB_MODULES })
    t.diagnostic(`${result.checked} blocks type-checked in ${paths.length} files; ${result.skipped.length} opted out`)
    for (const s of result.skipped) t.diagnostic(`opted out: ${s.doc} block ${s.block} (line ${s.line}): ${s.reason}`)

    assert.ok(paths.includes('README.md') && paths.includes('docs/reference/plugin.md'), `found ${paths.join(', ')}`)
    assert.ok(result.checked >= 40, `only ${result.checked} blocks were checked`)
    const silent = result.skipped.filter((s) => s.reason === '')
    assert.deepEqual(silent, [], 'a block that opts out with `// docs-check: skip` must say why on the same line')
    if (result.diagnostics.length > 0) {
      assert.fail(`${result.diagnostics.length} type error(s) in the docs:\n${result.diagnostics.map(formatDiagnostic).join('\n')}`)
    }
  })
})
