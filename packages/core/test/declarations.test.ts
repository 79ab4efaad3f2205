import assert from 'node:assert/strict'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

// The build strips `@internal` declarations (`stripInternal` in tsconfig.build.json): the members a
// task calls on its scheduler are not API. These tests read the built declarations (`pnpm build`
// first, as `pnpm test` does).
const PACKAGE = fileURLToPath(new URL('../', import.meta.url))
const SRC = join(PACKAGE, 'src')
const DIST = join(PACKAGE, 'dist')

/** `Container.member` (or a top-level name) → whether its doc comment has an `@internal` tag. */
function declarations(file: string): Map<string, boolean> {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true)
  const found = new Map<string, boolean>()
  const visit = (node: ts.Node, container: string): void => {
    const name = (node as { name?: ts.Node }).name
    if (
      name !== undefined &&
      (ts.isIdentifier(name) || ts.isPrivateIdentifier(name)) &&
      (ts.isClassElement(node) || ts.isTypeElement(node) || ts.isDeclarationStatement(node) || ts.isFunctionDeclaration(node))
    ) {
      const key = container === '' ? name.text : `${container}.${name.text}`
      const internal = ts.getJSDocTags(node).some((tag) => tag.tagName.text === 'internal')
      found.set(key, internal || (found.get(key) ?? false))
      if (ts.isClassDeclaration(node) || ts.isInterfaceDeclaration(node)) {
        node.forEachChild((child) => visit(child, name.text))
        return
      }
    }
    node.forEachChild((child) => visit(child, container))
  }
  visit(source, '')
  return found
}

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name))
}

function builtDeclarations(file: string): string {
  const built = join(DIST, relative(SRC, file)).replace(/\.ts$/, '.d.ts')
  assert.ok(existsSync(built), `${relative(PACKAGE, built)} exists: run \`pnpm build\` before these tests`)
  return built
}

describe('the published declarations of @fastify-tasks/core', () => {
  it('leave out every @internal declaration of the sources', () => {
    const internal: string[] = []
    const shipped: string[] = []
    for (const file of sourceFiles(SRC)) {
      const own = [...declarations(file)].filter(([, isInternal]) => isInternal).map(([name]) => name)
      if (own.length === 0) continue
      const built = declarations(builtDeclarations(file))
      for (const name of own) {
        internal.push(name)
        if (built.has(name)) shipped.push(`${relative(PACKAGE, file)}: ${name}`)
      }
    }
    // The check reads what it should: the members a task calls on its scheduler are internal.
    for (const name of ['Scheduler.cancelTask', 'Scheduler.progressTask', 'Scheduler.siteOf', 'TaskOwner.cancelTask']) {
      assert.ok(internal.includes(name), `${name} is marked @internal in the sources`)
    }
    assert.deepEqual(shipped, [])
  })

  it('type-check on their own, skipLibCheck off (a stripped member must not break what still refers to it)', () => {
    const program = ts.createProgram({
      rootNames: [join(DIST, 'index.d.ts'), join(DIST, 'testing.d.ts')],
      options: {
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        target: ts.ScriptTarget.ES2022,
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: ['node'],
      },
    })
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
    assert.ok(program.getSourceFile(join(DIST, 'scheduler.d.ts')) !== undefined, 'the program reaches scheduler.d.ts')
    assert.deepEqual(diagnostics, [])
  })
})
