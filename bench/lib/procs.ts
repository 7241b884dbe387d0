// CPU time and resident memory of process trees, read from /proc. A component (the load
// generator, Haraka, clamd, the sink) is named by its root pids. Its descendants are found again at
// each sample, so Haraka's cluster workers and Postfix's per-delivery processes are counted.
// CPU is utime+stime of the live tree plus cutime+cstime of its members, which contain the CPU
// time of children that exited and were reaped. Peak RSS is the largest sum of VmRSS over the
// samples, taken every `intervalMs` (100 ms by default), so a shorter peak can be missed.

import { readFileSync, readdirSync } from 'node:fs'

const TICKS_PER_SECOND = 100 // USER_HZ on Linux, which /proc/<pid>/stat reports in

interface ProcStat {
  pid: number
  ppid: number
  /** utime+stime+cutime+cstime in clock ticks. */
  ticks: number
}

function readStat(pid: number): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name in brackets may contain spaces, so fields are counted after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
    const num = (i: number) => Number(fields[i - 3])
    return { pid, ppid: num(4), ticks: num(14) + num(15) + num(16) + num(17) }
  } catch {
    return null
  }
}

function readRssKb(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) : 0
  } catch {
    return 0
  }
}

function allStats(): ProcStat[] {
  const out: ProcStat[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const s = readStat(Number(name))
    if (s) out.push(s)
  }
  return out
}

/** Returns the roots and every live descendant of them. */
export function processTree(roots: readonly number[], stats: ProcStat[] = allStats()): ProcStat[] {
  const byParent = new Map<number, ProcStat[]>()
  for (const s of stats) byParent.set(s.ppid, [...(byParent.get(s.ppid) ?? []), s])
  const found = new Map<number, ProcStat>()
  const queue = stats.filter((s) => roots.includes(s.pid))
  while (queue.length > 0) {
    const s = queue.shift() as ProcStat
    if (found.has(s.pid)) continue
    found.set(s.pid, s)
    queue.push(...(byParent.get(s.pid) ?? []))
  }
  return [...found.values()]
}

export interface ComponentUsage {
  name: string
  /** CPU time used during the measurement, in % of one core. */
  cpuPercent: number
  /** Largest sampled resident memory of the whole tree, in MiB. */
  peakRssMb: number
}

export interface Component {
  name: string
  /** Root pids, read at every sample because a component may start processes later. */
  pids: () => number[]
}

/** Samples components from start() until stop(), which returns each one's usage. */
export class UsageSampler {
  private timer: NodeJS.Timeout | null = null
  private startedAt = 0
  private readonly first = new Map<string, Map<number, number>>()
  private readonly last = new Map<string, Map<number, number>>()
  private readonly peak = new Map<string, number>()

  constructor(private readonly components: Component[], private readonly intervalMs = 100) {}

  start(): void {
    this.startedAt = Date.now()
    this.sample(true)
    this.timer = setInterval(() => this.sample(false), this.intervalMs)
  }

  stop(): ComponentUsage[] {
    if (this.timer) clearInterval(this.timer)
    this.sample(false)
    const seconds = Math.max(0.001, (Date.now() - this.startedAt) / 1000)
    return this.components.map((c) => {
      const first = this.first.get(c.name) ?? new Map()
      const last = this.last.get(c.name) ?? new Map()
      let ticks = 0
      // A process that started during the run counts from zero; one that exited keeps its last sample.
      for (const [pid, t] of last) ticks += t - (first.get(pid) ?? 0)
      return { name: c.name, cpuPercent: (100 * ticks) / TICKS_PER_SECOND / seconds, peakRssMb: (this.peak.get(c.name) ?? 0) / 1024 }
    })
  }

  private sample(initial: boolean): void {
    const stats = allStats()
    for (const c of this.components) {
      const tree = processTree(c.pids(), stats)
      const last = this.last.get(c.name) ?? new Map<number, number>()
      let rss = 0
      for (const s of tree) {
        last.set(s.pid, s.ticks)
        rss += readRssKb(s.pid)
      }
      this.last.set(c.name, last)
      if (initial) this.first.set(c.name, new Map(last))
      this.peak.set(c.name, Math.max(this.peak.get(c.name) ?? 0, rss))
    }
  }
}

/** Returns the summed VmRSS of a process tree in KiB. */
export function treeRssKb(roots: readonly number[]): number {
  return processTree(roots).reduce((sum, s) => sum + readRssKb(s.pid), 0)
}
