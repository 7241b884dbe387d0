// Postfix's test programs from Debian's postfix package: smtp-sink as the fast downstream MTA
// that every row delivers to, and smtp-source as the load generator. Only these binaries are
// used, never the Postfix daemon.

import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs'
import net from 'node:net'
import { trackPid, untrackPid } from './children'

export const SMTP_SINK = '/usr/sbin/smtp-sink'
export const SMTP_SOURCE = '/usr/sbin/smtp-source'

export function missingPostfixTools(): string | null {
  for (const bin of [SMTP_SINK, SMTP_SOURCE]) {
    if (!existsSync(bin)) return `${bin} not found: install Debian's postfix package with bench/install.sh`
  }
  return null
}

export interface SmtpSink {
  port: number
  pid: number
  /** Messages received so far (the "." count of smtp-sink's -c counters). */
  count(): number
  stop(): Promise<void>
}

/** Starts smtp-sink on 127.0.0.1:port; its running counters go to logPath. */
export async function startSmtpSink(port: number, logPath: string): Promise<SmtpSink> {
  // smtp-sink exits when started as root without a user (-u) to switch to.
  const user = process.getuid?.() === 0 ? ['-u', 'nobody'] : []
  const out = openSync(logPath, 'w')
  const child = spawn(SMTP_SINK, [...user, '-c', `127.0.0.1:${port}`, '1024'], { stdio: ['ignore', out, out] })
  closeSync(out)
  trackPid(child.pid)
  await waitForListen(port, 5000, child)
  return {
    port,
    pid: child.pid as number,
    count: () => lastCounter(logPath),
    stop: () => stopChild(child),
  }
}

function lastCounter(logPath: string): number {
  let fd: number
  try {
    fd = openSync(logPath, 'r')
  } catch {
    return 0
  }
  try {
    const size = statSync(logPath).size
    const buf = Buffer.alloc(Math.min(400, size))
    readSync(fd, buf, 0, buf.length, size - buf.length)
    const all = [...buf.toString('latin1').matchAll(/mesg=(\d+)/g)]
    return all.length > 0 ? Number(all[all.length - 1][1]) : 0
  } finally {
    closeSync(fd)
  }
}

export interface SourceJob {
  port: number
  sessions: number
  messages: number
  /** Payload bytes per message (-l), or a prepared message file (-F). */
  size?: number
  file?: string
  from: string
  to: string
  recipients: number
  timeoutMs: number
}

export interface SourceResult {
  pid: number
  seconds: number
  code: number | null
  output: string
}

/** Starts smtp-source; `pid` is available at once so its CPU can be sampled. */
export function runSmtpSource(job: SourceJob): { pid: number; done: Promise<SourceResult> } {
  const args = ['-s', String(job.sessions), '-m', String(job.messages), '-f', job.from, '-t', job.to,
    '-r', String(job.recipients), '-M', 'client.bench.example']
  if (job.file) args.push('-F', job.file)
  else args.push('-l', String(job.size ?? 4096))
  args.push(`127.0.0.1:${job.port}`)

  const started = process.hrtime.bigint()
  const child = spawn(SMTP_SOURCE, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  trackPid(child.pid)
  let output = ''
  child.stdout.on('data', (c: Buffer) => (output += c.toString()))
  child.stderr.on('data', (c: Buffer) => (output += c.toString()))
  const timer = setTimeout(() => child.kill('SIGKILL'), job.timeoutMs)
  const done = new Promise<SourceResult>((resolve) => {
    child.once('exit', (code) => {
      clearTimeout(timer)
      untrackPid(child.pid)
      resolve({ pid: child.pid as number, seconds: Number(process.hrtime.bigint() - started) / 1e9, code, output })
    })
  })
  return { pid: child.pid as number, done }
}

export function waitForListen(port: number, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child && child.exitCode !== null) return reject(new Error(`process exited with code ${child.exitCode} before listening on port ${port}`))
      const s = net.connect({ host: '127.0.0.1', port })
      s.once('connect', () => {
        s.destroy()
        resolve()
      })
      s.once('error', () => {
        if (Date.now() > deadline) reject(new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`))
        else setTimeout(attempt, 100)
      })
    }
    attempt()
  })
}

/** Sends SIGTERM, then SIGKILL after 10 s, and resolves when the process has exited. */
export function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10000)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    child.kill(signal)
  })
}
