/**
 * Finds the ```ts code blocks of a Markdown file: their code, where they start, the file name a
 * block gives itself (`// app.ts` on its first line) and whether it opts out of the check.
 */

/** The opt-out marker: `// docs-check: skip (why)` on a block's first line. The reason is required. */
export const SKIP_MARKER = /^\/\/\s*docs-check:\s*skip\b\s*(.*)$/

/** A first line naming the block's file, as the guides do: `// app.ts`, `// refresh.test.ts`. */
const FILE_NAME = /^\/\/\s*([\w.-]+\.ts)\s*$/

/** One ```ts block of a Markdown file. */
export interface CodeBlock {
  /** 1-based among the file's ```ts blocks. */
  readonly index: number
  /** 1-based line of the block's first code line in the Markdown file. */
  readonly line: number
  /** The code, without the fences and without the indentation of the fence. */
  readonly code: string
  /** `app.ts` when the first line is `// app.ts`, else `null`. */
  readonly fileName: string | null
  /** Why the block opts out (the text after the marker), or `null` when it is checked. */
  readonly skip: string | null
}

const OPEN = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)(.*)$/

/**
 * The ```ts blocks of `markdown`, in order. Fences may be indented (a block inside a list item): the
 * fence's indentation is removed from every line of the block. Other fenced blocks are skipped whole,
 * so a ```ts inside a ```md block is not mistaken for one.
 */
export function extractTsBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split(/\r?\n/)
  const blocks: CodeBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = OPEN.exec(lines[i]!)
    if (open === null) continue
    const indent = open[1]!.length
    const fence = open[2]!
    const language = open[3]!.toLowerCase()
    const close = new RegExp(`^\\s*${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`)
    const body: string[] = []
    let j = i + 1
    while (j < lines.length && !close.test(lines[j]!)) {
      const text = lines[j]!
      body.push(text.slice(Math.min(indent, text.length - text.trimStart().length)))
      j++
    }
    if (language === 'ts') {
      const first = body[0]?.trim() ?? ''
      const skip = SKIP_MARKER.exec(first)
      const named = FILE_NAME.exec(first)
      blocks.push({
        index: blocks.length + 1,
        line: i + 2,
        code: body.join('\n'),
        fileName: named === null ? null : named[1]!,
        skip: skip === null ? null : skip[1]!.trim(),
      })
    }
    i = j
  }
  return blocks
}
