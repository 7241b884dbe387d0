// A small SMTP client that measures per-message latency, which smtp-source does not report: the
// time from sending MAIL FROM to the 250 reply after the end of DATA. `concurrency` sessions run
// in parallel, one message per connection as smtp-source does without -d. Messages are sent
// dot-stuffed with CRLF line ends.

import net from 'node:net'

export interface LatencyJob {
  port: number
  concurrency: number
  messages: number
  /** Message texts with CRLF line ends, used in turn. */
  bodies: readonly Buffer[]
  from: string
  /** Recipient addresses of every message. */
  to: readonly string[]
  timeoutMs: number
}

export interface LatencyResult {
  /** Milliseconds from MAIL FROM to the final 250, one per accepted message. */
  latencies: number[]
  failures: string[]
}

/** Dot-stuffs a CRLF message and appends the end-of-data line. */
export function dataBlock(message: Buffer): Buffer {
  const text = message.toString('latin1')
  const stuffed = text.replace(/(^|\r\n)\./g, '$1..')
  return Buffer.from(`${stuffed}${stuffed.endsWith('\r\n') ? '' : '\r\n'}.\r\n`, 'latin1')
}

export async function measureLatency(job: LatencyJob): Promise<LatencyResult> {
  const blocks = job.bodies.map(dataBlock)
  const result: LatencyResult = { latencies: [], failures: [] }
  const deadline = Date.now() + job.timeoutMs
  let next = 0
  const worker = async () => {
    while (next < job.messages && Date.now() < deadline) {
      const i = next++
      try {
        result.latencies.push(await sendOne(job, blocks[i % blocks.length], deadline - Date.now()))
      } catch (err) {
        result.failures.push(err instanceof Error ? err.message : String(err))
      }
    }
  }
  await Promise.all(Array.from({ length: job.concurrency }, worker))
  return result
}

/** Runs one SMTP session; resolves with the MAIL-to-final-250 time in milliseconds. */
function sendOne(job: LatencyJob, block: Buffer, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: job.port })
    const steps: Array<string | Buffer> = ['EHLO client.bench.example\r\n', `MAIL FROM:<${job.from}>\r\n`,
      ...job.to.map((t) => `RCPT TO:<${t}>\r\n`), 'DATA\r\n', block]
    const expected = [220, 250, 250, ...job.to.map(() => 250), 354, 250]
    let step = 0
    let mailAt = 0
    let pending = ''
    const timer = setTimeout(() => fail(`no reply within ${timeoutMs} ms at step ${step}`), Math.max(1, timeoutMs))
    const fail = (why: string) => {
      clearTimeout(timer)
      socket.destroy()
      reject(new Error(why))
    }
    socket.on('error', (err) => fail(`connection failed: ${err.message}`))
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1')
      for (;;) {
        const m = /^(\d{3}) [^\r\n]*\r?\n/m.exec(pending)
        if (!m) return
        pending = pending.slice(m.index + m[0].length)
        const code = Number(m[1])
        if (code !== expected[step]) return fail(`expected ${expected[step]} at step ${step}, got ${m[0].trim()}`)
        if (step === expected.length - 1) {
          const ms = Number(process.hrtime.bigint() / 1000n) / 1000 - mailAt
          clearTimeout(timer)
          socket.end('QUIT\r\n')
          return resolve(ms)
        }
        if (step === 1) mailAt = Number(process.hrtime.bigint() / 1000n) / 1000
        socket.write(steps[step])
        step++
      }
    })
  })
}
