// Stops Haraka when the `mailgw start` launcher that runs it is gone. The launcher stops Haraka
// itself on SIGINT and SIGTERM, but a SIGKILL gives it no chance, and Haraka (in its own process
// group) would keep the SMTP port while nothing supervises it. The launcher passes its pid in
// MAILGW_LAUNCHER_PID; without it (Haraka run directly) nothing is watched.

import cluster from 'node:cluster'

const CHECK_MS = 2000

let watching = false

/** Starts the watch in the process that owns the listeners (the master, or the only process). */
export function watchLauncher(log: (message: string) => void, env: NodeJS.ProcessEnv = process.env): void {
  const pid = Number(env.MAILGW_LAUNCHER_PID)
  if (watching || !Number.isInteger(pid) || pid <= 0 || cluster.isWorker) return
  watching = true
  const timer = setInterval(() => {
    if (isAlive(pid)) return
    clearInterval(timer)
    log(`the mailgw launcher (pid ${pid}) is gone; stopping Haraka`)
    process.kill(process.pid, 'SIGTERM')
  }, CHECK_MS)
  timer.unref()
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
