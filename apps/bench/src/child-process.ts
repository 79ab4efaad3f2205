/**
 * An entry of this app run as a child process (`node <entry>`, compiled JavaScript as users run
 * servers: a loader such as tsx changes what V8 does at startup, see `docs/benchmarks.md`) that talks in
 * lines over stdin and stdout; its stderr goes to ours. Every child started here is killed when this
 * process exits, even on an error or a signal, so none is left behind.
 */
import { spawn, type ChildProcess, type ChildProcessByStdio } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'

/** The app's directory: children resolve the packages from here. */
const APP_DIR = fileURLToPath(new URL('..', import.meta.url))

/** How long a child has to exit after SIGTERM before it gets SIGKILL. */
const TERM_GRACE_MS = 2_000

const live = new Set<ChildProcess>()
let hooksInstalled = false

function killLive(): void {
  for (const child of live) child.kill('SIGKILL')
}

/** Once: kill the live children when this process exits, or is told to by a signal. */
function installHooks(): void {
  if (hooksInstalled) return
  hooksInstalled = true
  process.once('exit', killLive)
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    process.once(signal, () => {
      killLive()
      process.exit(code)
    })
  }
}

export class LineChild {
  readonly #name: string
  readonly #child: ChildProcessByStdio<Writable, Readable, null>
  readonly #lines: string[] = []
  /** Set once the child has exited and its stdout is drained (or it could not be started). */
  #ended: string | undefined
  #wake: (() => void) | undefined
  readonly #closed: Promise<void>

  /** Starts `entry` (a path relative to this file, such as `./http-server.js`) with `args`. */
  constructor(name: string, entry: string, args: readonly string[]) {
    installHooks()
    this.#name = name
    const script = fileURLToPath(new URL(entry, import.meta.url))
    const child = spawn(process.execPath, [script, ...args], {
      cwd: APP_DIR,
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    this.#child = child
    live.add(child)
    // A child that died must surface as a failed nextLine(), not as an EPIPE crash here.
    child.stdin.on('error', () => {})
    createInterface({ input: child.stdout }).on('line', (line) => {
      this.#lines.push(line)
      this.#wake?.()
    })
    this.#closed = new Promise<void>((resolve) => {
      const end = (reason: string): void => {
        live.delete(child)
        this.#ended ??= reason
        this.#wake?.()
        resolve()
      }
      child.once('close', (code, signal) => end(signal === null ? `exited with code ${code}` : `was killed by ${signal}`))
      child.once('error', (error) => end(`could not run: ${error.message}`))
    })
  }

  /** The next line the child prints; rejects if it ends first or prints nothing for `timeoutMs`. */
  async nextLine(awaited: string, timeoutMs: number): Promise<string> {
    const deadline = performance.now() + timeoutMs
    for (;;) {
      const line = this.#lines.shift()
      if (line !== undefined) return line
      if (this.#ended !== undefined) throw new Error(`${this.#name} ${this.#ended} before printing ${awaited}`)
      const left = deadline - performance.now()
      if (left <= 0) throw new Error(`${this.#name} printed no ${awaited} within ${timeoutMs / 1000} s`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.#wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      this.#wake = undefined
    }
  }

  send(line: string): void {
    this.#child.stdin.write(`${line}\n`)
  }

  /** Kills the child if it still runs (SIGTERM, then SIGKILL) and resolves once it is gone. */
  async stop(): Promise<void> {
    if (this.#ended === undefined) {
      this.#child.kill('SIGTERM')
      let timer: NodeJS.Timeout | undefined
      const graceOver = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), TERM_GRACE_MS)
      })
      const timedOut = await Promise.race([this.#closed.then(() => false), graceOver])
      clearTimeout(timer)
      if (timedOut) this.#child.kill('SIGKILL')
    }
    await this.#closed
  }
}
