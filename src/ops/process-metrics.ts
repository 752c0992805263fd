// The usual process metrics, named as prom-client's defaults name them so that existing
// dashboards and alerts work unchanged, limited to what is cheap to read without dependencies:
// CPU time, resident memory, start time, file descriptors (Linux /proc), V8 heap, event-loop
// lag and the Node.js version. All are read at scrape time; nothing runs per request.

import { readdirSync, readFileSync } from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Counter, Gauge, type Registry } from './metrics.js'

/** Event-loop delay sampling period (ms); prom-client's default precision too. */
const LOOP_RESOLUTION_MS = 10

/** The soft limit of open files from /proc/self/limits (Linux); null elsewhere or if unreadable. */
function maxFds(): number | null {
  try {
    const line = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))
    return line === null || line[1] === 'unlimited' ? null : Number(line[1])
  } catch {
    return null
  }
}

/** Open descriptors: the entries of /proc/self/fd, less the one readdir itself holds. */
function openFds(): number {
  return readdirSync('/proc/self/fd').length - 1
}

function hasProcFd(): boolean {
  try {
    openFds()
    return true
  } catch {
    return false
  }
}

export interface ProcessMetrics {
  /** Stop sampling the event loop (the sampler is a libuv timer that does not keep the process alive). */
  close(): void
}

/** Register the process metrics in `registry`. */
export function registerProcessMetrics(registry: Registry): ProcessMetrics {
  // One cpuUsage() reading per scrape feeds all three CPU counters, so user + system = total.
  // It is taken by the first of them: a registry renders (and collects) in registration order.
  let cpu = process.cpuUsage()
  const cpuUser = registry.register(
    new Counter({
      name: 'process_cpu_user_seconds_total',
      help: 'Total user CPU time spent in seconds.',
      collect: () => {
        cpu = process.cpuUsage()
        cpuUser.labels().value = cpu.user / 1e6
      },
    }),
  )
  const cpuSystem = registry.register(
    new Counter({
      name: 'process_cpu_system_seconds_total',
      help: 'Total system CPU time spent in seconds.',
      collect: () => {
        cpuSystem.labels().value = cpu.system / 1e6
      },
    }),
  )
  const cpuTotal = registry.register(
    new Counter({
      name: 'process_cpu_seconds_total',
      help: 'Total user and system CPU time spent in seconds.',
      collect: () => {
        cpuTotal.labels().value = (cpu.user + cpu.system) / 1e6
      },
    }),
  )

  const rss = registry.register(
    new Gauge({
      name: 'process_resident_memory_bytes',
      help: 'Resident memory size in bytes.',
      collect: () => rss.set(process.memoryUsage.rss()),
    }),
  )
  registry
    .register(
      new Gauge({ name: 'process_start_time_seconds', help: 'Start time of the process since unix epoch in seconds.' }),
    )
    .set(Math.round(Date.now() / 1000 - process.uptime()))

  if (hasProcFd()) {
    const fds = registry.register(
      new Gauge({
        name: 'process_open_fds',
        help: 'Number of open file descriptors.',
        collect: () => fds.set(openFds()),
      }),
    )
    // Read once, as prom-client does: the limit is set before a process starts.
    const max = maxFds()
    if (max !== null) {
      registry
        .register(new Gauge({ name: 'process_max_fds', help: 'Maximum number of open file descriptors.' }))
        .set(max)
    }
  }

  let memory = process.memoryUsage()
  const heapTotal = registry.register(
    new Gauge({
      name: 'nodejs_heap_size_total_bytes',
      help: 'Process heap size from Node.js in bytes.',
      collect: () => {
        memory = process.memoryUsage()
        heapTotal.set(memory.heapTotal)
      },
    }),
  )
  const heapUsed = registry.register(
    new Gauge({
      name: 'nodejs_heap_size_used_bytes',
      help: 'Process heap size used from Node.js in bytes.',
      collect: () => heapUsed.set(memory.heapUsed),
    }),
  )
  const external = registry.register(
    new Gauge({
      name: 'nodejs_external_memory_bytes',
      help: 'Node.js external memory size in bytes.',
      collect: () => external.set(memory.external),
    }),
  )

  // monitorEventLoopDelay records the time between ticks of a libuv timer, so every sample
  // includes the sampling period itself: the lag is what exceeds it. The histogram is reset at
  // each scrape, so the figures cover the time since the previous scrape; a scrape that finds no
  // sample keeps the previous figures.
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS })
  loop.enable()
  const lag = (ns: number) => Math.max(0, ns / 1e9 - LOOP_RESOLUTION_MS / 1e3)
  let sampled = false
  const lagMean = registry.register(
    new Gauge({
      name: 'nodejs_eventloop_lag_seconds',
      help: 'Mean event loop lag since the previous scrape, in seconds.',
      collect: () => {
        sampled = loop.count > 0
        if (sampled) lagMean.set(lag(loop.mean))
      },
    }),
  )
  const lagP99 = registry.register(
    new Gauge({
      name: 'nodejs_eventloop_lag_p99_seconds',
      help: 'The 99th percentile of the event loop lag since the previous scrape, in seconds.',
      collect: () => {
        if (sampled) lagP99.set(lag(loop.percentile(99)))
      },
    }),
  )
  const lagMax = registry.register(
    new Gauge({
      name: 'nodejs_eventloop_lag_max_seconds',
      help: 'The maximum event loop lag since the previous scrape, in seconds.',
      collect: () => {
        if (sampled) lagMax.set(lag(loop.max))
        loop.reset()
      },
    }),
  )

  const [major, minor, patch] = process.versions.node.split('.')
  registry
    .register(
      new Gauge({
        name: 'nodejs_version_info',
        help: 'Node.js version info.',
        labelNames: ['version', 'major', 'minor', 'patch'],
      }),
    )
    .labels(process.version, major, minor, patch)
    .set(1)

  return { close: () => loop.disable() }
}
