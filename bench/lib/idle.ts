// Waits for an idle machine before a measured run, because other processes on a 2-core machine
// skew every figure. Idle means all cores together at most `maxBusyPercent` busy over one second,
// read from /proc/stat.

import { readFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'

function cpuTimes(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields
  const busy = user + nice + system + irq + softirq + steal
  return { busy, total: busy + idle + iowait }
}

export interface IdleResult {
  idle: boolean
  /** Busy share of all cores in the last second checked, in %. */
  busyPercent: number
  loadAverage: number
  waitedSeconds: number
}

/** Checks once a second, for at most `maxWaitSeconds`, whether the machine is idle. */
export async function waitForIdle(maxWaitSeconds: number, maxBusyPercent = 20): Promise<IdleResult> {
  const started = Date.now()
  let busyPercent = 100
  for (let i = 0; i < Math.max(1, maxWaitSeconds); i++) {
    const a = cpuTimes()
    await new Promise((r) => setTimeout(r, 1000))
    const b = cpuTimes()
    busyPercent = (100 * (b.busy - a.busy)) / Math.max(1, b.total - a.total)
    if (busyPercent <= maxBusyPercent) break
  }
  return {
    idle: busyPercent <= maxBusyPercent,
    busyPercent,
    loadAverage: loadavg()[0],
    waitedSeconds: (Date.now() - started) / 1000,
  }
}

export function coreCount(): number {
  return cpus().length
}
