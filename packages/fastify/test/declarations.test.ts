import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

// The build strips `@internal` declarations (`stripInternal` in tsconfig.build.json): the plugin makes
// app.tasks and request.tasks, so their constructors and its own spawn path are not API. These tests
// read the built declarations (`pnpm build` first, as `pnpm test` does).
const DIST = fileURLToPath(new URL('../dist/', import.meta.url))

function built(file: string): string {
  const path = join(DIST, file)
  assert.ok(existsSync(path), `dist/${file} exists: run \`pnpm build\` before these tests`)
  return readFileSync(path, 'utf8')
}

describe('the published declarations of fastify-tasks', () => {
  it('show app.tasks and request.tasks without their constructors or the plugin-only spawn path', () => {
    const appTasks = built('tasks/app-tasks.d.ts')
    assert.match(appTasks, /export declare class AppTasks extends Scheduler/)
    assert.doesNotMatch(appTasks, /constructor\(/)
    assert.doesNotMatch(appTasks, /spawnWithLog|checkSpawnOptions/)
    assert.match(appTasks, /readonly eventLoop: EventLoopStatus/, 'the parts are read-only views')
    assert.doesNotMatch(built('tasks/request-tasks.d.ts'), /constructor\(/)
    assert.doesNotMatch(built('errors.d.ts'), /withHttpAnswer/)
  })

  it('type-check on their own, skipLibCheck off', () => {
    const program = ts.createProgram({
      rootNames: [join(DIST, 'index.d.ts')],
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
    const ours = ts.getPreEmitDiagnostics(program).filter((d) => d.file === undefined || d.file.fileName.startsWith(DIST))
    assert.ok(program.getSourceFile(join(DIST, 'tasks/app-tasks.d.ts')) !== undefined, 'the program reaches app-tasks.d.ts')
    assert.deepEqual(
      ours.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')),
      [],
    )
  })
})
