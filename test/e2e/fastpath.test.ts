// mailgw_fastpath end to end: the gateway's outbound deliveries no longer wait for the receiver's
// delayed ACK before the end-of-data dot, and messages still arrive byte for byte (dot-stuffing,
// 100 KB and multi-MB bodies). A stall shows as the time between the receiver's 354 reply and
// the final dot: about 40 ms with Nagle's algorithm on, about 1 ms without it.

import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import net from 'node:net'
import { after, before, describe, it } from 'node:test'
import { DEFAULT_PLUGINS } from '../../src/launcher/haraka-instance'
import { startTestGateway, type TestGateway } from '../helpers/gateway'
import { startSink, type Sink } from '../helpers/sink'
import { freePort, sendMail } from '../helpers/smtp'

/** An SMTP receiver that records, per message, the milliseconds from its 354 to the final dot. */
interface TimingSink {
  port: number
  gaps: number[]
  waitFor(count: number, timeoutMs?: number): Promise<number[]>
  close(): Promise<void>
}

function startTimingSink(port: number): Promise<TimingSink> {
  const gaps: number[] = []
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => undefined)
    let inData = false
    let sentAt = 0
    let text = ''
    socket.write('220 timing-sink ESMTP\r\n')
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1')
      for (;;) {
        if (inData) {
          const end = text.indexOf('\r\n.\r\n')
          if (end < 0) return
          gaps.push(Date.now() - sentAt)
          inData = false
          text = text.slice(end + 5)
          socket.write('250 2.0.0 accepted\r\n')
          continue
        }
        const nl = text.indexOf('\r\n')
        if (nl < 0) return
        const verb = text.slice(0, 4).toUpperCase()
        text = text.slice(nl + 2)
        if (verb === 'EHLO') socket.write('250-timing-sink\r\n250 8BITMIME\r\n')
        else if (verb === 'QUIT') socket.end('221 2.0.0 bye\r\n')
        else if (verb === 'DATA') {
          inData = true
          text = '\r\n' + text // the body may start with the dot line itself
          socket.write('354 go ahead\r\n')
          sentAt = Date.now()
        } else socket.write('250 2.0.0 ok\r\n')
      }
    })
  })
  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () =>
      resolve({
        port,
        gaps,
        async waitFor(count, timeoutMs = 30000) {
          const deadline = Date.now() + timeoutMs
          while (gaps.length < count) {
            if (Date.now() > deadline) throw new Error(`timing sink got ${gaps.length} of ${count} messages within ${timeoutMs} ms`)
            await new Promise((r) => setTimeout(r, 50))
          }
          return gaps.slice(0, count)
        },
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy()
            server.close(() => done())
          }),
      }),
    )
  })
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

function conf(sinkPort: number): string {
  return `
[mailgw.network]
ListenOn=127.0.0.1:%PORT%
Hostname=gw.test.example
Postmaster=admin@corp.example
ProtectedDomains=corp.example

[mailgw.forward]
ForwardRoute=* [127.0.0.1:${sinkPort}]

[mailgw.policy]
CheckSpam=false
CheckAV=false
`
}

/** Haraka generates 2048-bit DH parameters at start when there are none, which takes a core for many seconds. */
function dhparams(): string {
  return execFileSync('openssl', ['dhparam', '-dsaparam', '2048'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString()
}

function message(subject: string, body: string): string {
  return [
    'From: Alice <alice@outside.example>',
    'To: Bob <bob@corp.example>',
    `Subject: ${subject}`,
    'Date: Fri, 04 Dec 2026 10:00:00 +0000',
    `Message-ID: <${subject.replace(/\W/g, '')}@outside.example>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    body,
  ].join('\r\n')
}

/** ASCII lines of 76 characters that differ from each other, to about `bytes` in total. */
function filler(bytes: number): string {
  const lines: string[] = []
  for (let i = 0, size = 0; size < bytes; i++) {
    const line = `${i.toString().padStart(8, '0')} ${'The quick brown fox jumps over the lazy dog. '.repeat(2)}`.slice(0, 76)
    lines.push(line)
    size += line.length + 2
  }
  return lines.join('\r\n') + '\r\n'
}

async function sendSequentially(port: number, count: number, bodyBytes: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const result = await sendMail({ port, from: 'alice@outside.example', to: ['bob@corp.example'], message: message(`stall ${i}`, filler(bodyBytes)) })
    assert.equal(result.final?.code, 250)
  }
}

function split(raw: Buffer): { headers: string[]; body: string } {
  const text = raw.toString('latin1')
  const end = text.indexOf('\r\n\r\n')
  return { headers: text.slice(0, end).split(/\r\n(?![ \t])/), body: text.slice(end + 4) }
}

describe('outbound fast path', () => {
  let dh: string
  before(() => {
    dh = dhparams()
  })

  describe('with the default plugins', () => {
    let gateway: TestGateway
    let timing: TimingSink
    let sink: Sink

    before(async () => {
      timing = await startTimingSink(await freePort())
      gateway = await startTestGateway({ conf: conf(timing.port), files: { 'dhparams.pem': dh } })
    })

    after(async () => {
      await gateway?.stop()
      await timing?.close()
      await sink?.close()
    })

    it('announces the fast path at start', async () => {
      await gateway.waitForOutput(/outbound delivery sockets use TCP_NODELAY/)
    })

    it('sends the final dot without a stall', async () => {
      await sendSequentially(gateway.port, 8, 4096)
      const gaps = await timing.waitFor(8)
      assert.ok(median(gaps) < 20, `median 354-to-dot time ${median(gaps)} ms (all: ${gaps.join(', ')}); a delayed-ACK stall is about 40 ms`)
    })

    it('delivers dot-stuffed, 100 KB and 5 MB bodies byte for byte', async () => {
      // Restart on a collecting sink: the timing sink keeps no message text.
      await gateway.stop()
      sink = await startSink(await freePort())
      gateway = await startTestGateway({ conf: conf(sink.port), files: { 'dhparams.pem': dh } })

      const bodies = [
        '.\r\n..\r\n...\r\n.leading dot\r\n..two dots\r\n. space after dot\r\nend\r\n.\r\n',
        filler(100 * 1024),
        filler(5 * 1024 * 1024),
      ]
      for (const [i, body] of bodies.entries()) {
        const sent = message(`intact ${i}`, body)
        const result = await sendMail({ port: gateway.port, from: 'alice@outside.example', to: ['bob@corp.example'], message: sent })
        assert.equal(result.final?.code, 250, `message ${i}: ${result.final?.text}`)

        const got = (await sink.waitFor(i + 1, 60000))[i]
        const original = split(Buffer.from(sent, 'latin1'))
        const delivered = split(got.raw)
        assert.equal(delivered.body.length, original.body.length, `message ${i}: body length`)
        assert.ok(delivered.body === original.body, `message ${i}: body differs`)
        assert.deepEqual(delivered.headers.slice(-original.headers.length), original.headers)
      }
    })
  })

  describe('without mailgw_fastpath', () => {
    let gateway: TestGateway
    let timing: TimingSink

    before(async () => {
      timing = await startTimingSink(await freePort())
      const plugins = DEFAULT_PLUGINS.filter((p) => p !== 'mailgw_fastpath').join('\n') + '\n'
      gateway = await startTestGateway({ conf: conf(timing.port), files: { plugins, 'dhparams.pem': dh } })
    })

    after(async () => {
      await gateway?.stop()
      await timing?.close()
    })

    // The control: stock delivery on this kernel shows the stall the plugin removes, so the
    // check above can fail.
    it('stalls on the delayed ACK', async () => {
      await sendSequentially(gateway.port, 8, 4096)
      const gaps = await timing.waitFor(8)
      assert.ok(median(gaps) >= 30, `median 354-to-dot time ${median(gaps)} ms (all: ${gaps.join(', ')}); expected the ~40 ms delayed-ACK stall`)
    })
  })
})
