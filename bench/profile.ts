// `npm run bench:profile`: where one benchmark row spends its CPU time. It starts the row as
// `npm run bench` does, warms it up, then takes a V8 CPU profile of every Node process of the row
// (Haraka's master and workers) during one throughput run, and sums self time by function and by
// module. Options:
//   --row ID        a Haraka row: stock-haraka, gw-rules, gw-clamd, gw-full (default gw-full)
//   --size 4k|100k  message size (default 4k)
//   --workers N     Haraka workers (default 1)
//   --messages N    messages in the profiled run (default 3000)
// The summary goes to bench/results/profile-<row>-<size>-<N>w.md; the .cpuprofile files stay in a
// temporary directory whose path is printed (open them in Chrome DevTools), never in the tree.

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { stopChildrenOnSignal } from './lib/children'
import { waitForIdle } from './lib/idle'
import { measureRun, syntheticMessage, type RunResult, type Workload } from './lib/load'
import { machineInfo } from './lib/machine'
import { startServices } from './lib/services'
import { fixed, markdownTable } from './lib/table'
import { gatewayRows } from './rows/gateway'
import { stockHarakaRow } from './rows/stock-haraka'

const PACKAGE_ROOT = path.resolve(__dirname, '..', '..')

interface Options {
  row: string
  size: '4k' | '100k'
  workers: number
  messages: number
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { row: 'gw-full', size: '4k', workers: 1, messages: 3000 }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const value = () => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`option ${a} needs a value`)
      return v
    }
    if (a === '--row') opts.row = value()
    else if (a === '--size') {
      const size = value()
      if (size !== '4k' && size !== '100k') throw new Error(`invalid --size ${size}: use 4k or 100k`)
      opts.size = size
    } else if (a === '--workers') opts.workers = Math.max(1, Number(value()))
    else if (a === '--messages') opts.messages = Math.max(100, Number(value()))
    else throw new Error(`unknown option ${a}; see the comment at the top of bench/profile.ts`)
  }
  return opts
}

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** Names the module a script URL belongs to: an npm package, a file of this project, or node's internals. */
export function moduleOf(url: string): string {
  if (url === '') return '(native or V8)'
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/').slice(0, 2).join('/')}`
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(url)
  if (pkg) return pkg[1] === 'Haraka' ? `Haraka/${pkg[2]}` : pkg[1]
  const own = /\/dist\/(.*)$/.exec(url)
  if (own) return own[1]
  return url.replace(/^file:\/\//, '')
}

export interface SelfTime {
  name: string
  ms: number
}

/**
 * Sums each sample's time into the function it hit, keyed by function and by module; idle time is
 * left out. A native function (a syscall binding, a V8 builtin) is charged to the module of its
 * nearest caller outside node's library and named with it, so file and socket work shows who asked for it.
 */
export function selfTimes(profile: CpuProfile): { functions: SelfTime[]; modules: SelfTime[]; busyMs: number; totalMs: number } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  // The nearest caller outside node's own library: Haraka, a package or this project.
  const jsCaller = (id: number): ProfileNode | undefined => {
    for (let p = parent.get(id); p !== undefined; p = parent.get(p)) {
      const node = byId.get(p)
      if (node && node.callFrame.url !== '' && !node.callFrame.url.startsWith('node:')) return node
    }
    return undefined
  }
  const fn = new Map<string, number>()
  const mod = new Map<string, number>()
  let busy = 0
  let total = 0
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000
    total += ms
    const node = byId.get(id)
    const frame = node?.callFrame
    if (!node || !frame || frame.functionName === '(idle)') return
    busy += ms
    let moduleName: string
    let fnName: string
    if (frame.url !== '') {
      moduleName = moduleOf(frame.url)
      fnName = `${frame.functionName || '(anonymous)'} ${moduleName}:${frame.lineNumber + 1}`
    } else if (frame.functionName.startsWith('(')) {
      moduleName = frame.functionName
      fnName = frame.functionName
    } else {
      const caller = jsCaller(node.id)?.callFrame
      moduleName = caller ? moduleOf(caller.url) : '(native or V8)'
      fnName = caller ? `${frame.functionName} [native] from ${caller.functionName || '(anonymous)'} ${moduleName}:${caller.lineNumber + 1}` : `${frame.functionName} [native]`
    }
    fn.set(fnName, (fn.get(fnName) ?? 0) + ms)
    mod.set(moduleName, (mod.get(moduleName) ?? 0) + ms)
  })
  const sorted = (m: Map<string, number>) => [...m].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms)
  return { functions: sorted(fn), modules: sorted(mod), busyMs: busy, totalMs: total }
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2))
  stopChildrenOnSignal()
  const log = (s: string) => console.log(s)
  const row = [stockHarakaRow, ...gatewayRows].find((r) => r.id === opts.row)
  if (!row) throw new Error(`unknown --row ${opts.row}: use stock-haraka or one of ${gatewayRows.map((r) => r.id).join(', ')}`)

  const workDir = mkdtempSync(path.join(os.tmpdir(), 'mailgw-profile-'))
  const profileDir = path.join(workDir, 'profiles')
  mkdirSync(profileDir)
  const { services, sink, stop } = await startServices(workDir, log)
  const body = syntheticMessage(opts.size === '4k' ? 4096 : 102400)
  const workload: Workload = { name: opts.size, size: opts.size === '4k' ? 4096 : 102400, bodies: [body], meanBytes: body.length }
  let result: RunResult
  const pids = new Map<number, string>()
  try {
    const reason = await row.unavailable(services)
    if (reason) throw new Error(`row ${row.id} cannot run here: ${reason}`)
    // Only the row's processes inherit the hook: it is set just around their start.
    process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --require ${path.join(__dirname, 'lib', 'cpu-profile-hook.js')}`.trim()
    process.env.BENCH_CPU_PROFILE_DIR = profileDir
    const runDir = path.join(workDir, row.id)
    mkdirSync(runDir)
    const running = await row.start({ ...services, workDir: runDir }, opts.workers)
    delete process.env.NODE_OPTIONS
    delete process.env.BENCH_CPU_PROFILE_DIR
    const run = (messages: number, latencyMessages: number) => measureRun(workload, {
      port: running.port, sink, copies: row.copies, messages, sessions: 20, latencyMessages, timeoutMs: 180000,
      components: [...running.components, { name: 'smtp-sink', pids: () => [sink.pid] }],
    })
    try {
      log(`warming up ${row.id} with ${Math.round(opts.messages / 5)} messages`)
      await run(Math.round(opts.messages / 5), 20)
      const idle = await waitForIdle(10)
      if (!idle.idle) log(`WARNING: machine ${idle.busyPercent.toFixed(0)}% busy (load average ${idle.loadAverage.toFixed(2)}) before the profiled run`)
      writeFileSync(path.join(profileDir, 'start'), '')
      await new Promise((r) => setTimeout(r, 300))
      result = await run(opts.messages, 20)
      writeFileSync(path.join(profileDir, 'stop'), '')
      for (const c of running.components) for (const pid of c.pids()) pids.set(pid, c.name)
      await new Promise((r) => setTimeout(r, 3000))
    } finally {
      await running.stop()
    }
  } finally {
    await stop()
  }

  const profiles = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'))
  if (profiles.length === 0) throw new Error(`no CPU profile was written to ${profileDir}: check that the row's processes are Node processes that inherit NODE_OPTIONS`)
  const machine = machineInfo(PACKAGE_ROOT)
  const md = [`# CPU profile: ${row.id}, ${opts.size} messages, ${opts.workers} worker(s)`, '',
    `${machine.date}; ${machine.cpu}, ${machine.cores} cores; Node ${machine.node}, Haraka ${machine.haraka}, haraka-mailgw ${machine.commit}.`,
    `Command: \`npm run bench:profile -- --row ${opts.row} --size ${opts.size} --workers ${opts.workers} --messages ${opts.messages}\`.`,
    `Profiled run: ${opts.messages} messages, 20 sessions, ${fixed(result!.msgsPerSec)} msgs/s with the profiler on, ` +
      `delivered ${result!.delivered}/${result!.expected}; CPU ${result!.usage.map((u) => `${u.name} ${fixed(u.cpuPercent, 0)}%`).join(', ')}.`, '']
  const busiest = profiles.map((f) => ({ f, t: selfTimes(JSON.parse(readFileSync(path.join(profileDir, f), 'utf8')) as CpuProfile) }))
    .filter((p) => p.t.busyMs > 50).sort((a, b) => b.t.busyMs - a.t.busyMs)
  for (const { f, t } of busiest) {
    const pid = Number(f.replace('.cpuprofile', ''))
    md.push(`## pid ${pid}: ${fixed(t.busyMs / 1000, 2)} s busy of ${fixed(t.totalMs / 1000, 2)} s profiled`, '')
    md.push('Self time by module:', '', markdownTable(['module', 'ms', '% of busy'],
      t.modules.slice(0, 20).map((m) => [m.name, fixed(m.ms, 0), fixed((100 * m.ms) / t.busyMs, 1)])), '')
    md.push('Top functions by self time:', '', markdownTable(['function (module:line)', 'ms', '% of busy'],
      t.functions.slice(0, 30).map((m) => [m.name.replace(/\|/g, '\\|'), fixed(m.ms, 0), fixed((100 * m.ms) / t.busyMs, 1)])), '')
  }
  const outDir = path.join(PACKAGE_ROOT, 'bench', 'results')
  mkdirSync(outDir, { recursive: true })
  const out = path.join(outDir, `profile-${row.id}-${opts.size}-${opts.workers}w.md`)
  writeFileSync(out, md.join('\n'))
  log(md.join('\n'))
  log(`\nsummary written to ${path.relative(PACKAGE_ROOT, out)}; profiles kept in ${profileDir}`)
  // Everything but the profiles goes: queues, logs and the clamd state.
  for (const entry of readdirSync(workDir)) if (entry !== 'profiles') rmSync(path.join(workDir, entry), { recursive: true, force: true })
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`bench:profile failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
    process.exit(1)
  })
}
