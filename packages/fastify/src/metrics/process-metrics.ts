import { readdirSync } from 'node:fs'
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks'
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { EventLoopMonitor } from '../backpressure/event-loop-monitor.js'

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
}

/** A metric name prom-client's default metrics also use; its presence means someone collects them already. */
export const PROCESS_MARKER_METRIC = 'process_cpu_user_seconds_total'

/**
 * Node's process metrics under prom-client's usual names (CPU, memory, heap, file descriptors,
 * active resources, event-loop lag, GC, version). Read at scrape time, except GC durations, which a
 * `PerformanceObserver` records; `stop()` disconnects it. prom-client's own `collectDefaultMetrics`
 * cannot be stopped (it leaves an observer and a histogram running), which would break the promise
 * that closing an app stops everything its metrics started.
 */
export class ProcessMetrics {
  readonly #observer: PerformanceObserver

  constructor(registry: Registry, eventLoop: EventLoopMonitor) {
    const registers = [registry]
    const startTime = Math.round((performance.timeOrigin / 1000) * 1000) / 1000
    new Counter({
      name: 'process_cpu_user_seconds_total',
      help: 'Total user CPU time spent in seconds.',
      registers,
      collect() {
        this.reset()
        this.inc(process.cpuUsage().user / 1e6)
      },
    })
    new Counter({
      name: 'process_cpu_system_seconds_total',
      help: 'Total system CPU time spent in seconds.',
      registers,
      collect() {
        this.reset()
        this.inc(process.cpuUsage().system / 1e6)
      },
    })
    new Counter({
      name: 'process_cpu_seconds_total',
      help: 'Total user and system CPU time spent in seconds.',
      registers,
      collect() {
        const usage = process.cpuUsage()
        this.reset()
        this.inc((usage.user + usage.system) / 1e6)
      },
    })
    new Gauge({
      name: 'process_start_time_seconds',
      help: 'Start time of the process since unix epoch in seconds.',
      registers,
      collect() {
        this.set(startTime)
      },
    })
    new Gauge({
      name: 'process_resident_memory_bytes',
      help: 'Resident memory size in bytes.',
      registers,
      collect() {
        this.set(process.memoryUsage.rss())
      },
    })
    if (process.platform === 'linux') {
      new Gauge({
        name: 'process_open_fds',
        help: 'Number of open file descriptors.',
        registers,
        collect() {
          try {
            this.set(readdirSync('/proc/self/fd').length - 1)
          } catch {
            // not readable here: leave the previous value
          }
        },
      })
    }
    const heap = (name: string, help: string, read: (m: NodeJS.MemoryUsage) => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read(process.memoryUsage()))
        },
      })
    }
    heap('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', (m) => m.heapTotal)
    heap('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', (m) => m.heapUsed)
    heap('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', (m) => m.external)
    new Gauge({
      name: 'nodejs_active_resources',
      help: 'Number of active resources that are currently keeping the event loop alive, grouped by async resource type.',
      labelNames: ['type'],
      registers,
      collect() {
        this.reset()
        for (const type of process.getActiveResourcesInfo()) this.inc({ type })
      },
    })
    const lag = (suffix: 'p50' | 'p90' | 'p99' | 'max'): void => {
      new Gauge({
        name: `nodejs_eventloop_lag_${suffix}_seconds`,
        help: `The ${suffix} of event-loop delay over the last measurement window, in seconds.`,
        registers,
        collect() {
          this.set(eventLoop.snapshot().delayMs[suffix] / 1000)
        },
      })
    }
    lag('p50')
    lag('p90')
    lag('p99')
    lag('max')
    const [major = 0, minor = 0, patch = 0] = process.versions.node.split('.').map(Number)
    new Gauge({
      name: 'nodejs_version_info',
      help: 'Node.js version info.',
      labelNames: ['version', 'major', 'minor', 'patch'],
      registers,
    }).set({ version: process.version, major, minor, patch }, 1)
    const gc = new Histogram({
      name: 'nodejs_gc_duration_seconds',
      help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
      labelNames: ['kind'],
      buckets: [0.001, 0.01, 0.1, 1, 2, 5],
      registers,
    })
    this.#observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
        const kind = GC_KINDS[entry.detail?.kind ?? -1] ?? 'unknown'
        gc.observe({ kind }, entry.duration / 1000)
      }
    })
    this.#observer.observe({ entryTypes: ['gc'] })
  }

  /** Disconnects the GC observer. */
  stop(): void {
    this.#observer.disconnect()
  }
}
