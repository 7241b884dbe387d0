// One measured run. smtp-source sends the messages, with one smtp-source process per message file
// for the mixed set. The run ends when the sink has every delivery or deliveries stop arriving.
// A short latency pass with the Node client follows.

import { readFileSync } from 'node:fs'
import { measureLatency } from './latency'
import { runSmtpSource, type SmtpSink } from './postfix-tools'
import { percentile } from './stats'
import { UsageSampler, type Component, type ComponentUsage } from './procs'
import { ENVELOPE } from '../rows/types'

export interface Workload {
  name: string
  /** Payload size for smtp-source -l, or message files for -F. */
  size?: number
  files?: string[]
  /** Mean bytes per message as sent, for MB/s. */
  meanBytes: number
  /** Message texts (CRLF) for the latency client. */
  bodies: Buffer[]
}

export interface RunOptions {
  port: number
  sink: SmtpSink
  copies: number
  messages: number
  sessions: number
  latencyMessages: number
  timeoutMs: number
  components: Component[]
}

export interface RunResult {
  msgsPerSec: number
  mbPerSec: number
  p50: number
  p99: number
  delivered: number
  expected: number
  usage: ComponentUsage[]
  errors: string[]
}

/** Splits `total` into `parts` integers that differ by at most one. */
function share(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0))
}

/** Waits until the sink count reaches `target` or has not moved for `stallMs`; returns the time of the last delivery. */
async function waitForSink(sink: SmtpSink, target: number, stallMs: number, deadline: number): Promise<number> {
  let last = sink.count()
  let lastAt = Date.now()
  while (last < target && Date.now() < deadline && Date.now() - lastAt < stallMs) {
    await new Promise((r) => setTimeout(r, 20))
    const now = sink.count()
    if (now !== last) {
      last = now
      lastAt = Date.now()
    }
  }
  return lastAt
}

export async function measureRun(workload: Workload, opts: RunOptions): Promise<RunResult> {
  const errors: string[] = []
  const deadline = Date.now() + opts.timeoutMs
  const base = opts.sink.count()
  const expected = opts.messages * opts.copies

  const jobs = workload.files
    ? workload.files.map((file, i) => ({ file, sessions: Math.max(1, share(opts.sessions, workload.files!.length)[i]), messages: share(opts.messages, workload.files!.length)[i] }))
    : [{ file: undefined, sessions: opts.sessions, messages: opts.messages }]

  const started = Date.now()
  const sources = jobs.filter((j) => j.messages > 0).map((j) =>
    runSmtpSource({ port: opts.port, sessions: j.sessions, messages: j.messages, file: j.file, size: workload.size,
      from: ENVELOPE.from, to: ENVELOPE.to, recipients: ENVELOPE.recipients.length, timeoutMs: opts.timeoutMs }))
  const sourcePids = sources.map((s) => s.pid)
  const sampler = new UsageSampler([{ name: 'smtp-source', pids: () => sourcePids }, ...opts.components])
  sampler.start()

  for (const r of await Promise.all(sources.map((s) => s.done))) {
    if (r.code !== 0) errors.push(`smtp-source exited with ${r.code}: ${r.output.trim().split('\n').slice(-2).join(' | ')}`)
  }
  const lastAt = await waitForSink(opts.sink, base + expected, 5000, deadline)
  const usage = sampler.stop()
  const delivered = opts.sink.count() - base
  const seconds = Math.max(0.001, (lastAt - started) / 1000)
  const msgsPerSec = delivered >= expected ? opts.messages / seconds : (delivered / opts.copies) / seconds
  if (delivered < expected) errors.push(`the sink got ${delivered} of ${expected} deliveries`)

  // Latency pass, after the throughput run so it does not slow smtp-source down.
  const latencyBase = opts.sink.count()
  const lat = await measureLatency({ port: opts.port, concurrency: opts.sessions, messages: opts.latencyMessages, bodies: workload.bodies,
    from: ENVELOPE.from, to: ENVELOPE.recipients, timeoutMs: Math.max(1000, deadline - Date.now()) })
  if (lat.failures.length > 0) errors.push(`latency client: ${lat.failures.length} failures, first: ${lat.failures[0]}`)
  await waitForSink(opts.sink, latencyBase + lat.latencies.length * opts.copies, 5000, deadline)

  return {
    msgsPerSec,
    mbPerSec: (msgsPerSec * workload.meanBytes) / 1048576,
    p50: percentile(lat.latencies, 50),
    p99: percentile(lat.latencies, 99),
    delivered,
    expected,
    usage,
    errors,
  }
}

/** Builds a message of about `size` payload bytes, like the one smtp-source -l sends, for the latency client. */
export function syntheticMessage(size: number): Buffer {
  const head = `From: <${ENVELOPE.from}>\r\nTo: <${ENVELOPE.to}>\r\nSubject: bench\r\nMessage-Id: <bench@client.bench.example>\r\n\r\n`
  const line = 'La La La La La La La La La La La La La La La La La La La La La La La La La La La\r\n'
  return Buffer.from(head + line.repeat(Math.max(1, Math.ceil(size / line.length))).slice(0, size), 'latin1')
}

/** Reads a message file and gives it CRLF line ends, as smtp-source -F sends it. */
export function readMessageFile(file: string): Buffer {
  return Buffer.from(readFileSync(file, 'latin1').replace(/\r?\n/g, '\r\n'), 'latin1')
}
