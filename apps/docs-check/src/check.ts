/**
 * Type-checks the ```ts blocks of Markdown files with the TypeScript compiler API, against the
 * workspace packages as an app would import them (`fastify-tasks`, `@fastify-tasks/core`, `fastify`).
 *
 * Each block is written to its own module file in a temporary directory under `os.tmpdir()`, one
 * sub-directory per Markdown file, beside a global declaration file of the stand-in names the docs
 * use without defining them (`mailer`, `saveOrder`…). A block whose first line names its file
 * (`// app.ts`) is written under that name, so another block of the same page can import it
 * (`./app.js`); modules a page imports without showing them are written from `STUB_MODULES`.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import ts from 'typescript'
import { extractTsBlocks, type CodeBlock } from './extract.js'

/** A Markdown file and its ```ts blocks. */
export interface DocFile {
  /** Path relative to the repository root, with `/`. */
  readonly path: string
  readonly blocks: readonly CodeBlock[]
}

/** One compiler diagnostic, placed in the Markdown file it comes from. */
export interface BlockDiagnostic {
  /** The Markdown file, relative to the repository root; or the stand-ins / a stub module. */
  readonly doc: string
  /** 1-based block number among the file's ```ts blocks; `null` outside a block. */
  readonly block: number | null
  /** 1-based line in the Markdown file (or in the stand-ins / stub); `null` for a global diagnostic. */
  readonly line: number | null
  /** `TS2304`… */
  readonly code: string
  readonly message: string
  /** The offending line of code, trimmed. */
  readonly source: string
}

export interface CheckResult {
  /** Blocks type-checked. */
  readonly checked: number
  /** Blocks that opted out, with their reasons. */
  readonly skipped: readonly { readonly doc: string; readonly block: number; readonly line: number; readonly reason: string }[]
  readonly diagnostics: readonly BlockDiagnostic[]
}

export interface CheckOptions {
  /** The repository root: its `tsconfig.base.json` gives the compiler options, `node_modules/@types` the Node types. */
  readonly root: string
  /** A directory whose `node_modules` resolves the packages the blocks import. */
  readonly packageDir: string
  readonly docs: readonly DocFile[]
  /** Global declarations of the stand-in names (a script, not a module). */
  readonly standIns: string
  /** Modules the pages import without showing them, by file name (`app.ts`); a page's own block of that name wins. */
  readonly stubs: Readonly<Record<string, string>>
}

/** `README.md` and every `.md` under `docs/`, relative to `root`, sorted. */
export async function findDocs(root: string): Promise<string[]> {
  const entries = await readdir(join(root, 'docs'), { recursive: true, withFileTypes: true })
  const docs = entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.md'))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split('\\').join('/'))
  return ['README.md', ...docs.sort()]
}

/** Reads the Markdown files and extracts their ```ts blocks. */
export async function readDocs(root: string, paths: readonly string[]): Promise<DocFile[]> {
  return Promise.all(paths.map(async (path) => ({ path, blocks: extractTsBlocks(await readFile(join(root, path), 'utf8')) })))
}

/** The repository's compiler options, made fit for checking loose files in a temporary directory. */
function compilerOptions(root: string): ts.CompilerOptions {
  const configPath = join(root, 'tsconfig.base.json')
  const read = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path))
  if (read.error !== undefined) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, '\n'))
  const config = read.config as { compilerOptions?: unknown }
  const { options, errors } = ts.convertCompilerOptionsFromJson(config.compilerOptions, root, configPath)
  if (errors.length > 0) throw new Error(errors.map((e) => ts.flattenDiagnosticMessageText(e.messageText, '\n')).join('\n'))
  return {
    ...options,
    noEmit: true,
    declaration: false,
    declarationMap: false,
    sourceMap: false,
    skipLibCheck: true,
    typeRoots: [join(root, 'node_modules', '@types')],
    types: ['node'],
  }
}

interface Origin {
  readonly doc: string
  readonly block: number | null
  /** Markdown line of the file's first line. */
  readonly firstLine: number
}

/** Writes the blocks, compiles them in one program, and places every diagnostic in its Markdown file. */
export async function checkDocs(options: CheckOptions): Promise<CheckResult> {
  const dir = await mkdtemp(join(tmpdir(), 'docs-check-'))
  try {
    await writeFile(join(dir, 'package.json'), '{ "type": "module", "private": true }\n')
    await symlink(join(options.packageDir, 'node_modules'), join(dir, 'node_modules'), 'dir')
    const standIns = join(dir, 'stand-ins.d.ts')
    await writeFile(standIns, options.standIns)

    const origins = new Map<string, Origin>([[standIns, { doc: '(stand-ins)', block: null, firstLine: 1 }]])
    const skipped: { doc: string; block: number; line: number; reason: string }[] = []
    let checked = 0
    for (const doc of options.docs) {
      const sub = join(dir, doc.path.replace(/\.md$/, '').replace(/[^\w-]+/g, '__'))
      await mkdir(sub, { recursive: true })
      const used = new Set<string>()
      for (const block of doc.blocks) {
        if (block.skip !== null) {
          skipped.push({ doc: doc.path, block: block.index, line: block.line, reason: block.skip })
          continue
        }
        const name = block.fileName !== null && !used.has(block.fileName) ? block.fileName : `block-${block.index}.ts`
        used.add(name)
        const file = join(sub, name)
        // `export {}` makes every block a module: its names stay its own, and top-level await works.
        await writeFile(file, `${block.code}\nexport {}\n`)
        origins.set(file, { doc: doc.path, block: block.index, firstLine: block.line })
        checked++
      }
      for (const [name, code] of Object.entries(options.stubs)) {
        if (used.has(name)) continue
        const file = join(sub, name)
        await writeFile(file, code)
        origins.set(file, { doc: `(stub ${name} for ${doc.path})`, block: null, firstLine: 1 })
      }
    }

    const program = ts.createProgram({ rootNames: [...origins.keys()], options: compilerOptions(options.root) })
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d): BlockDiagnostic => {
      const message = ts.flattenDiagnosticMessageText(d.messageText, '\n')
      const code = `TS${d.code}`
      if (d.file === undefined || d.start === undefined) return { doc: '(global)', block: null, line: null, code, message, source: '' }
      const origin = origins.get(d.file.fileName) ?? { doc: d.file.fileName, block: null, firstLine: 1 }
      const { line } = d.file.getLineAndCharacterOfPosition(d.start)
      const source = d.file.text.split('\n')[line]?.trim() ?? ''
      return { doc: origin.doc, block: origin.block, line: origin.firstLine + line, code, message, source }
    })
    return { checked, skipped, diagnostics }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** One line per diagnostic: `docs/guides/x.md block 3, line 120: TS2304 Cannot find name 'mailer'.` */
export function formatDiagnostic(d: BlockDiagnostic): string {
  const where = `${d.doc}${d.block === null ? '' : ` block ${d.block}`}${d.line === null ? '' : `, line ${d.line}`}`
  return `${where}: ${d.code} ${d.message}${d.source === '' ? '' : `\n    ${d.source}`}`
}
