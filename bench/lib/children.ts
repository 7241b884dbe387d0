// Every process the benchmark starts, so that Ctrl-C or a timeout signal stops them all instead of
// leaving a sink, clamd or Haraka running.

const pids = new Set<number>()

export function trackPid(pid: number | undefined): void {
  if (pid) pids.add(pid)
}

export function untrackPid(pid: number | undefined): void {
  if (pid) pids.delete(pid)
}

/** Installs SIGINT and SIGTERM handlers that send SIGTERM to every tracked process, then exit. */
export function stopChildrenOnSignal(): void {
  const handler = (signal: NodeJS.Signals) => {
    console.error(`bench: ${signal} received, stopping ${pids.size} started process(es)`)
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGTERM')
      } catch {
        // already exited
      }
    }
    setTimeout(() => process.exit(130), 1000)
  }
  process.once('SIGINT', handler)
  process.once('SIGTERM', handler)
}
