// The memory check: one 50 MB message through the gateway's full-policy configuration (or the
// richest gateway row that can run). Measures the growth of the Haraka processes' summed RSS over
// their RSS before the message, and lists files the message left in the temporary directories
// (os.tmpdir(), /var/tmp, the clamd scratch directory) and in the queue.

import { mkdirSync, readdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { dataBlock } from './lib/latency'
import { treeRssKb } from './lib/procs'
import type { SmtpSink } from './lib/postfix-tools'
import { gatewayRows } from './rows/gateway'
import { ENVELOPE, type SharedServices } from './rows/types'
import net from 'node:net'

export interface MemoryResult {
  row: string
  messageMb: number
  delivered: boolean
  seconds: number
  rssBeforeMb: number
  rssPeakMb: number
  leftovers: string[]
}

/** Builds a message of about `bytes` with a base64 attachment, as a large real mail would be. */
function largeMessage(bytes: number): Buffer {
  const head = [`From: <${ENVELOPE.from}>`, `To: <${ENVELOPE.recipients[0]}>`, 'Subject: 50 MB', 'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"', '', '--b1', 'Content-Type: text/plain', '', 'See the attachment.', '--b1',
    'Content-Type: application/octet-stream; name="data.bin"', 'Content-Transfer-Encoding: base64',
    'Content-Disposition: attachment; filename="data.bin"', '', ''].join('\r\n')
  const raw = Buffer.alloc(Math.floor((bytes * 3) / 4))
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 2654435761) >>> 24
  const b64 = raw.toString('base64').replace(/.{76}/g, '$&\r\n')
  return Buffer.from(`${head}${b64}\r\n--b1--\r\n`, 'latin1')
}

function listFiles(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    let entries
    try {
      entries = readdirSync(d, { withFileTypes: true })
    } catch {
      return
    }
    for (const e of entries) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else out.push(p)
    }
  }
  walk(dir)
  return out
}

function send(port: number, message: Buffer, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    const steps: Array<string | Buffer> = ['EHLO client.bench.example\r\n', `MAIL FROM:<${ENVELOPE.from}>\r\n`, `RCPT TO:<${ENVELOPE.recipients[0]}>\r\n`, 'DATA\r\n', dataBlock(message)]
    let step = 0
    let pending = ''
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no reply within ${timeoutMs} ms at step ${step}`))
    }, timeoutMs)
    socket.on('error', (err) => reject(err))
    socket.on('data', (c: Buffer) => {
      pending += c.toString('latin1')
      for (;;) {
        const m = /^(\d{3}) [^\r\n]*\r?\n/m.exec(pending)
        if (!m) return
        pending = pending.slice(m.index + m[0].length)
        if (step === steps.length) {
          clearTimeout(timer)
          socket.end('QUIT\r\n')
          return resolve(m[0].trim())
        }
        if (!/^[23]/.test(m[1])) {
          clearTimeout(timer)
          socket.destroy()
          return reject(new Error(`rejected at step ${step}: ${m[0].trim()}`))
        }
        socket.write(steps[step++])
      }
    })
  })
}

export async function measureLargeMessage(services: SharedServices, sink: SmtpSink, log: (s: string) => void): Promise<MemoryResult> {
  let row = null
  for (const r of [...gatewayRows].reverse()) {
    if ((await r.unavailable(services)) === null) {
      row = r
      break
    }
  }
  if (!row) throw new Error('no gateway row can run in this build')
  log(`\n== 50 MB message through ${row.title}, 1 worker`)

  const workDir = path.join(services.workDir, 'memory')
  mkdirSync(workDir, { recursive: true })
  const tempDirs = [os.tmpdir(), '/var/tmp']
  const before = new Set(tempDirs.flatMap(listFiles))
  const running = await row.start({ ...services, workDir }, 1)
  try {
    await new Promise((r) => setTimeout(r, 2000))
    // Only the gateway's own processes count: clamd and rspamd are shared services with their own limits.
    const harakaPids = () => running.components.filter((c) => c.name === 'haraka').flatMap((c) => c.pids())
    const rssBefore = treeRssKb(harakaPids())
    let peak = rssBefore
    const timer = setInterval(() => (peak = Math.max(peak, treeRssKb(harakaPids()))), 50)
    const message = largeMessage(50 * 1024 * 1024)
    const base = sink.count()
    const started = Date.now()
    let delivered = false
    try {
      const reply = await send(running.port, message, 300000)
      log(`gateway replied: ${reply}`)
      const deadline = Date.now() + 300000
      while (sink.count() < base + row.copies / 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
      delivered = sink.count() > base
      await new Promise((r) => setTimeout(r, 1000))
    } finally {
      clearInterval(timer)
    }
    const seconds = (Date.now() - started) / 1000
    const queueFiles = listFiles(path.join(workDir, row.id, 'var', 'queue'))
    // Only spool-like names count: other programs on the machine may write to /tmp meanwhile.
    const spoolName = /^[0-9A-F]{8}-[0-9A-F-]{27}.*\.eml$|^clamav-|^haraka/i
    const leftovers = [...tempDirs.flatMap(listFiles).filter((f) => !before.has(f) && !f.startsWith(services.workDir) && spoolName.test(path.basename(f))),
      ...listFiles(path.join(services.workDir, 'clamd', 'tmp')), ...queueFiles]
    return { row: row.id, messageMb: message.length / 2 ** 20, delivered, seconds, rssBeforeMb: rssBefore / 1024, rssPeakMb: peak / 1024, leftovers }
  } finally {
    await running.stop()
  }
}
