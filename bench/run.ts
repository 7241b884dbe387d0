// `npm run bench`: runs every benchmark row against the same smtp-sink in one go. It prints one
// table per message size and worker count, with msgs/s, MB/s, p50/p99 latency, CPU and peak RSS
// per process, and each row's ratio to the limit row. Every figure is the median of the runs.
// Results also go to bench/results/latest.{json,md}. Options:
//   --quick            1 run, fewer messages, 4 KB and 1 worker only: a smoke test of the harness
//   --runs N           runs per figure (default 3)
//   --rows a,b         only these row ids (the limit row always runs)
//   --sizes 4k,100k,mixed   message sets (default all three)
//   --workers 1,2      Haraka worker counts (default 1 and 2)
//   --no-memory        skip the 50 MB message check
//   --minutes N        time bound of the whole benchmark (default 45; rows past it are reported as skipped)
//   --out NAME         write bench/results/NAME.{md,json} (default latest, or quick with --quick)
// BENCH_KEEP=1 in the environment keeps the scratch directory with every row's log.

import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { stopChildrenOnSignal } from './lib/children'
import { waitForIdle } from './lib/idle'
import { measureRun, readMessageFile, syntheticMessage, type RunResult, type Workload } from './lib/load'
import { missingPostfixTools } from './lib/postfix-tools'
import { startServices } from './lib/services'
import { median } from './lib/stats'
import { fixed, markdownTable, textTable } from './lib/table'
import { machineInfo, type MachineInfo } from './lib/machine'
import { measureLargeMessage, type MemoryResult } from './memory'
import { gatewayRows } from './rows/gateway'
import { limitRow } from './rows/limit'
import { postfixAmavisRow } from './rows/postfix-amavis'
import { stockHarakaRow } from './rows/stock-haraka'
import type { Row } from './rows/types'

const PACKAGE_ROOT = path.resolve(__dirname, '..', '..')

interface Options {
  quick: boolean
  runs: number
  rows: string[] | null
  sizes: string[]
  workers: number[]
  memory: boolean
  minutes: number
  out: string | null
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { quick: false, runs: 3, rows: null, sizes: ['4k', '100k', 'mixed'], workers: [1, 2], memory: true, minutes: 45, out: null }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const value = () => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`option ${a} needs a value`)
      return v
    }
    if (a === '--quick') Object.assign(opts, { quick: true, runs: 1, sizes: ['4k'], workers: [1] })
    else if (a === '--runs') opts.runs = Math.max(1, Number(value()))
    else if (a === '--rows') opts.rows = value().split(',')
    else if (a === '--sizes') opts.sizes = value().split(',')
    else if (a === '--workers') opts.workers = value().split(',').map(Number)
    else if (a === '--no-memory') opts.memory = false
    else if (a === '--minutes') opts.minutes = Math.max(1, Number(value()))
    else if (a === '--out') opts.out = value()
    else throw new Error(`unknown option ${a}; see the comment at the top of bench/run.ts`)
  }
  for (const s of opts.sizes) if (!['4k', '100k', 'mixed'].includes(s)) throw new Error(`unknown message set ${s}: use 4k, 100k or mixed`)
  return opts
}

function workloads(names: string[]): Workload[] {
  const corpus = path.join(PACKAGE_ROOT, 'bench', 'corpus')
  const out: Workload[] = []
  for (const name of names) {
    if (name === 'mixed') {
      const files = readdirSync(corpus).filter((f) => f.endsWith('.eml')).sort().map((f) => path.join(corpus, f))
      const bodies = files.map(readMessageFile)
      out.push({ name: 'mixed', files, bodies, meanBytes: bodies.reduce((s, b) => s + b.length, 0) / bodies.length })
    } else {
      const size = name === '4k' ? 4096 : 102400
      const body = syntheticMessage(size)
      out.push({ name, size, bodies: [body], meanBytes: body.length })
    }
  }
  return out
}

/** Messages per run for a message set, before a row's load factor. */
function baseMessages(workload: string, quick: boolean): number {
  let full = 600
  if (workload === '4k') full = 1500
  if (workload === '100k') full = 500
  return quick ? Math.round(full / 3) : full
}

interface Cell {
  row: Row
  workers: number | null
  workload: string
  runs: RunResult[]
  skipped?: string
  idleWarnings: string[]
}


async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2))
  stopChildrenOnSignal()
  const log = (s: string) => console.log(s)
  const missing = missingPostfixTools()
  if (missing) throw new Error(missing)

  const machine = machineInfo(PACKAGE_ROOT)
  log(`haraka-mailgw benchmark, ${machine.date}: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB, Node ${machine.node}, Haraka ${machine.haraka}`)
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'mailgw-bench-'))
  const { services, stop, sink } = await startServices(workDir, log)
  const sessions = 20
  const deadlineAt = Date.now() + (opts.quick ? 5 : opts.minutes) * 60 * 1000
  const rows: Row[] = [limitRow, stockHarakaRow, ...gatewayRows, postfixAmavisRow].filter((r) => r.id === 'limit' || !opts.rows || opts.rows.includes(r.id))
  const sets = workloads(opts.sizes)
  const cells: Cell[] = []
  let memory: MemoryResult | string | null = null

  try {
    for (const row of rows) {
      const reason = await row.unavailable(services)
      for (const workers of row.usesWorkers ? opts.workers : [null]) {
        if (reason) {
          for (const w of sets) cells.push({ row, workers, workload: w.name, runs: [], skipped: reason, idleWarnings: [] })
          continue
        }
        log(`\n== ${row.title}${workers ? `, ${workers} worker(s)` : ''}`)
        let running
        try {
          running = await row.start({ ...services, workDir: mkdirWork(workDir, `${row.id}-${workers ?? 0}`) }, workers ?? 1)
        } catch (err) {
          const why = `failed to start: ${err instanceof Error ? err.message : String(err)}`
          log(`SKIPPED: ${why}`)
          for (const w of sets) cells.push({ row, workers, workload: w.name, runs: [], skipped: why, idleWarnings: [] })
          continue
        }
        try {
          for (const w of sets) {
            const cell: Cell = { row, workers, workload: w.name, runs: [], idleWarnings: [] }
            cells.push(cell)
            for (let r = 0; r < opts.runs; r++) {
              if (Date.now() > deadlineAt) {
                cell.skipped = cell.skipped ?? 'the whole benchmark ran out of its time bound'
                break
              }
              // A busy machine would otherwise eat the time bound: the first run of a cell waits longest.
              const idle = await waitForIdle(r === 0 ? (opts.quick ? 5 : 10) : 3)
              if (!idle.idle) {
                const warning = `machine ${idle.busyPercent.toFixed(0)}% busy (load average ${idle.loadAverage.toFixed(2)}) before run ${r + 1}`
                cell.idleWarnings.push(warning)
                log(`WARNING: ${warning}: figures are contaminated by other processes`)
              }
              const messages = Math.max(10, Math.round(baseMessages(w.name, opts.quick) * row.loadFactor))
              const result = await measureRun(w, {
                port: running.port, sink, copies: row.copies, messages, sessions,
                latencyMessages: Math.max(20, Math.round((opts.quick ? 60 : 200) * Math.min(1, row.loadFactor))),
                timeoutMs: 180000, components: [...running.components, { name: 'smtp-sink', pids: () => [sink.pid] }],
              })
              cell.runs.push(result)
              log(`${w.name.padEnd(5)} run ${r + 1}: ${fixed(result.msgsPerSec)} msgs/s, ${fixed(result.mbPerSec, 2)} MB/s, p50 ${fixed(result.p50)} ms, p99 ${fixed(result.p99)} ms, ` +
                `delivered ${result.delivered}/${result.expected}, ${result.usage.map((u) => `${u.name} ${fixed(u.cpuPercent, 0)}% ${fixed(u.peakRssMb, 0)} MB`).join(', ')}` +
                (result.errors.length ? `; ${result.errors.join('; ')}` : ''))
            }
          }
        } finally {
          await running.stop()
        }
      }
    }

    if (opts.memory && !opts.quick) {
      memory = await measureLargeMessage(services, sink, log).catch((err: unknown) => `not run: ${err instanceof Error ? err.message : String(err)}`)
    }
  } finally {
    await stop()
    if (process.env.BENCH_KEEP) log(`kept the logs and instance directories in ${workDir}`)
    else rmSync(workDir, { recursive: true, force: true })
  }

  report(cells, sets, opts, machine, memory, log)
}

function mkdirWork(root: string, name: string): string {
  const dir = path.join(root, name)
  mkdirSync(dir, { recursive: true })
  return dir
}

const COLUMNS = ['row', 'workers', 'msgs/s', 'MB/s', 'p50 ms', 'p99 ms', 'x limit', 'delivered', 'CPU % (per process)', 'peak RSS MB']

function cellLine(cell: Cell, limit: number): string[] {
  const workers = cell.workers === null ? '-' : String(cell.workers)
  if (cell.skipped && cell.runs.length === 0) return [cell.row.id, workers, 'skipped', '', '', '', '', '', cell.skipped, '']
  const m = (f: (r: RunResult) => number) => median(cell.runs.map(f))
  const rate = m((r) => r.msgsPerSec)
  const names = cell.runs[0]?.usage.map((u) => u.name) ?? []
  const usage = (pick: 'cpuPercent' | 'peakRssMb') =>
    names.map((n) => `${n} ${fixed(median(cell.runs.map((r) => r.usage.find((u) => u.name === n)?.[pick] ?? NaN)), 0)}`).join(', ')
  return [
    cell.row.id,
    workers,
    fixed(rate),
    fixed(m((r) => r.mbPerSec), 2),
    fixed(m((r) => r.p50)),
    fixed(m((r) => r.p99)),
    Number.isFinite(limit) && limit > 0 ? fixed(rate / limit, 2) : '-',
    `${Math.min(...cell.runs.map((r) => r.delivered))}/${cell.runs[0].expected}`,
    usage('cpuPercent'),
    usage('peakRssMb'),
  ]
}

function report(cells: Cell[], sets: Workload[], opts: Options, machine: MachineInfo, memory: MemoryResult | string | null, log: (s: string) => void): void {
  const md: string[] = [`# Benchmark results ${machine.date}`, '', `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB RAM, ${machine.os}.`,
    `Versions: Node ${machine.node}, Haraka ${machine.haraka}, haraka-mailgw ${machine.mailgw} (${machine.commit}), ${machine.postfix}, ${machine.clamd}.`,
    `Command: \`npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\`; ${opts.runs} run(s) per figure, figures are medians; 20 parallel SMTP sessions, 2 recipients per message.`, '']
  const limitRate = (workload: string) => median(cells.find((c) => c.row.id === 'limit' && c.workload === workload)?.runs.map((r) => r.msgsPerSec) ?? [])

  for (const w of sets) {
    for (const workers of opts.workers) {
      const chosen = cells.filter((c) => c.workload === w.name && (c.workers === null || c.workers === workers))
      const lines = chosen.map((c) => cellLine(c, limitRate(w.name)))
      const title = `${w.name} messages (${fixed(w.meanBytes / 1024, 1)} KB mean), ${workers} Haraka worker(s)`
      log(`\n${title}\n${textTable(COLUMNS, lines)}`)
      md.push(`## ${title}`, '', markdownTable(COLUMNS, lines), '')
      const warnings = chosen.flatMap((c) => c.idleWarnings.map((x) => `${c.row.id}: ${x}`))
      if (warnings.length > 0) {
        const text = `Idle-machine warnings (${warnings.length}): ${warnings.slice(0, 4).join('; ')}${warnings.length > 4 ? '; ...' : ''}`
        log(text)
        md.push(text, '')
      }
    }
  }

  if (memory !== null) {
    const text = typeof memory === 'string' ? `50 MB message: ${memory}` : memoryText(memory)
    log(`\n${text}`)
    md.push('## 50 MB message through the gateway', '', text, '')
  }

  const outDir = path.join(PACKAGE_ROOT, 'bench', 'results')
  mkdirSync(outDir, { recursive: true })
  const name = opts.out ?? (opts.quick ? 'quick' : 'latest')
  writeFileSync(path.join(outDir, `${name}.md`), md.join('\n'))
  writeFileSync(path.join(outDir, `${name}.json`), JSON.stringify({ machine, options: opts, memory,
    cells: cells.map((c) => ({ row: c.row.id, title: c.row.title, workers: c.workers, workload: c.workload, skipped: c.skipped ?? null, idleWarnings: c.idleWarnings, runs: c.runs })) }, null, 2))
  log(`\nresults written to bench/results/${name}.md and ${name}.json`)
}

function memoryText(m: MemoryResult): string {
  return [`50 MB message (${fixed(m.messageMb, 1)} MB) through ${m.row}: delivered ${m.delivered ? 'yes' : 'NO'} in ${fixed(m.seconds, 1)} s;`,
    `Haraka RSS before ${fixed(m.rssBeforeMb, 0)} MB, peak ${fixed(m.rssPeakMb, 0)} MB, growth ${fixed(m.rssPeakMb - m.rssBeforeMb, 0)} MB`,
    `= ${fixed((m.rssPeakMb - m.rssBeforeMb) / m.messageMb, 2)}x the message (target: at most 2x);`,
    `files left in temporary directories: ${m.leftovers.length === 0 ? 'none' : m.leftovers.join(', ')}.`].join(' ')
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
  process.exit(1)
})
