/**
 * Helpers for tests against Prometheus's own tools: `promtool` and a real Prometheus server, both
 * from the Debian `prometheus` package that `.ci/install-test-deps` installs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

const MISSING = "is not installed: run `bash .ci/install-test-deps` (it installs Debian's prometheus package)"

function requireBinary(name: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' })
  const path = found.stdout.trim()
  if (found.status !== 0 || path === '') throw new Error(`${name} ${MISSING}`)
  return path
}

/** Runs `promtool` with `args` (and `input` on stdin); returns its exit code and output. */
export function promtool(args: string[], input?: string): { status: number | null; output: string } {
  const result = spawnSync(requireBinary('promtool'), args, { input, encoding: 'utf8', timeout: 30_000 })
  return { status: result.status, output: `${result.stdout}${result.stderr}` }
}

/** A Prometheus server listening on 127.0.0.1 (port chosen by the system). */
export interface PrometheusServer {
  readonly url: string
  /** Runs an instant query; returns the result vector. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>
  stop(): Promise<void>
}

/** Starts Prometheus scraping `target` (host:port) every second, with a throwaway data directory. */
export async function startPrometheus(target: string, metricsPath = '/metrics'): Promise<PrometheusServer> {
  const binary = requireBinary('prometheus')
  const dir = await mkdtemp(join(tmpdir(), 'fastify-tasks-prometheus-'))
  const config = join(dir, 'prometheus.yml')
  await writeFile(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: fastify-tasks-test',
      `    metrics_path: ${metricsPath}`,
      '    static_configs:',
      `      - targets: ['${target}']`,
      '',
    ].join('\n'),
  )
  const child: ChildProcess = spawn(
    binary,
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, '--web.listen-address=127.0.0.1:0', '--log.level=info'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  const exited = once(child, 'exit')
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
    await rm(dir, { recursive: true, force: true })
  }
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('prometheus did not start listening within 30 s')), 30_000)
      const lines = createInterface({ input: child.stderr! })
      lines.on('line', (line) => {
        const match = /msg="Listening on" address=(127\.0\.0\.1:\d+)/.exec(line)
        if (match !== null) {
          clearTimeout(timer)
          resolve(`http://${match[1]}`)
        }
      })
      void exited.then(() => {
        clearTimeout(timer)
        reject(new Error('prometheus exited before listening'))
      })
    })
    return {
      url,
      async query(expr) {
        const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`)
        const body = (await response.json()) as {
          status: string
          data: { result: { metric: Record<string, string>; value: [number, string] }[] }
        }
        if (body.status !== 'success') throw new Error(`query failed: ${JSON.stringify(body)}`)
        return body.data.result
      },
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}
