// Limits of [mailgw.limits] and [mailgw.timeouts] against the real gateway, each at its boundary:
// n allowed, n+1 refused with its reply code and enhanced status. The session limits run with
// two Haraka workers and the private Redis, so they hold across processes.

import assert from 'node:assert/strict'
import { statfsSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { startTestGateway, type TestGateway } from '../helpers/gateway'
import { startSink, type Sink } from '../helpers/sink'
import { freePort, SmtpClient, type Reply } from '../helpers/smtp'

function expectReply(reply: Reply, code: number, enhanced: string | null, what: string): void {
  assert.equal(reply.code, code, `${what}: got ${reply.code} ${reply.text}`)
  assert.equal(reply.enhanced, enhanced, `${what}: enhanced status of "${reply.text}"`)
}

async function openAs(port: number, addr: string): Promise<{ client: SmtpClient; xclient: Reply; greeting: Reply }> {
  const { client, greeting } = await SmtpClient.connect(port)
  if (greeting.code !== 220) return { client, greeting, xclient: greeting }
  const xclient = await client.command(`XCLIENT ADDR=${addr}`)
  return { client, xclient, greeting }
}

async function ready(port: number, addr: string): Promise<SmtpClient> {
  const s = await openAs(port, addr)
  assert.equal(s.xclient.code, 220, `XCLIENT as ${addr}: ${s.xclient.text}`)
  const ehlo = await s.client.command('EHLO client.test')
  assert.equal(ehlo.code, 250, ehlo.text)
  return s.client
}

/** Builds a message of exactly `size` bytes as Haraka counts them: every line with its CRLF. */
function messageOfSize(size: number, headers: string[] = []): string {
  const head = [...headers, 'From: a@outside.example', 'To: b@corp.example', 'Subject: size', '', ''].join('\r\n')
  let rest = size - head.length
  assert.ok(rest >= 0, 'size too small for the headers')
  const lines: string[] = []
  while (rest > 0) {
    const length = Math.min(rest, 78)
    // Each line is at least 2 bytes (its CRLF); a 1-byte remainder is folded into the line before.
    if (length < 2) {
      lines[lines.length - 1] = `${lines[lines.length - 1].slice(0, -2)}x\r\n`
      break
    }
    lines.push(`${'x'.repeat(length - 2)}\r\n`)
    rest -= length
  }
  return head + lines.join('')
}

async function sendOne(client: SmtpClient, body: string, to = 'b@corp.example'): Promise<Reply> {
  const mail = await client.command('MAIL FROM:<a@outside.example>')
  if (mail.code !== 250) return mail
  const rcpt = await client.command(`RCPT TO:<${to}>`)
  if (rcpt.code !== 250) return rcpt
  const data = await client.command('DATA')
  if (data.code !== 354) return data
  return client.data(body)
}

const POLICY = `
[mailgw.policy]
CheckAV=false
CheckSpam=false
`

describe('limits end to end', () => {
  let sink: Sink
  let gateway: TestGateway

  before(async () => {
    sink = await startSink(await freePort())
    const free = Number(statfsSync(os.tmpdir()).bavail) * Number(statfsSync(os.tmpdir()).bsize)
    const roomy = Math.max(0, Math.floor(free / 1024 / 1024) - 1024)
    gateway = await startTestGateway({
      conf: `
[mailgw.network]
ListenOn=127.0.0.1:%PORT%
Hostname=gw.test.example
Postmaster=admin@corp.example
ProtectedDomains=corp.example

[mailgw.forward]
ForwardRoute=* [127.0.0.1:${sink.port}]

[mailgw.limits]
IncomingSessions=5
MaximalIncomingSessionsPerIP=2
MaximalIncomingMessagesPerSession=3
MaximalIncomingRcptsPerMessage=3
MaximalIncomingMessageSize=64
MaximalIncomingSessionSize=64
MaximalIncomingHops=3
MinimalQueueFreeSpaceSize=${roomy}
OutgoingSessions=7

[mailgw.timeouts]
ReceivingDataInitiationTimeout=3
ReceivingDataTerminationTimeout=3

[mailgw.options]
Xclient=true
Workers=2

[mailgw.local]
Redis=true
${POLICY}`,
    })
  })

  after(async () => {
    await gateway?.stop()
    await sink?.close()
  })

  it('counts sessions per IP across two workers', async () => {
    await gateway.waitForOutput(/sessions counted in Redis[\s\S]*sessions counted in Redis/)
    const first = await openAs(gateway.port, '192.0.2.20')
    const second = await openAs(gateway.port, '192.0.2.20')
    const third = await openAs(gateway.port, '192.0.2.20')
    expectReply(first.xclient, 220, null, 'first session')
    expectReply(second.xclient, 220, null, 'second session')
    expectReply(third.xclient, 421, '4.7.0', 'third session')
    third.client.close()

    // A closed session frees its place.
    first.client.close()
    await new Promise((r) => setTimeout(r, 500))
    const again = await openAs(gateway.port, '192.0.2.20')
    expectReply(again.xclient, 220, null, 'session after one closed')
    second.client.close()
    again.client.close()
    await gateway.waitForOutput(/tempfail stage=connect rule=MaximalIncomingSessionsPerIP client=192\.0\.2\.20 .*counted in Redis/)
    await new Promise((r) => setTimeout(r, 500))
  })

  it('limits the total number of sessions', async () => {
    const open: SmtpClient[] = []
    for (let i = 0; i < 5; i++) {
      const s = await openAs(gateway.port, `192.0.2.${30 + i}`)
      expectReply(s.xclient, 220, null, `session ${i + 1}`)
      open.push(s.client)
    }
    const { client, greeting } = await SmtpClient.connect(gateway.port)
    expectReply(greeting, 421, '4.7.0', 'session 6')
    client.close()
    for (const c of open) c.close()
    await new Promise((r) => setTimeout(r, 500))
  })

  it('limits messages per session', async () => {
    const client = await ready(gateway.port, '192.0.2.40')
    for (let i = 1; i <= 3; i++) {
      expectReply(await client.command('MAIL FROM:<a@outside.example>'), 250, null, `MAIL ${i}`)
      await client.command('RSET')
    }
    const fourth = await client.command('MAIL FROM:<a@outside.example>')
    client.close()
    expectReply(fourth, 452, '4.7.0', 'MAIL 4')
  })

  it('limits recipients per message', async () => {
    const client = await ready(gateway.port, '192.0.2.41')
    await client.command('MAIL FROM:<a@outside.example>')
    for (let i = 1; i <= 3; i++) expectReply(await client.command(`RCPT TO:<r${i}@corp.example>`), 250, null, `RCPT ${i}`)
    const fourth = await client.command('RCPT TO:<r4@corp.example>')
    client.close()
    expectReply(fourth, 452, '4.5.3', 'RCPT 4')
  })

  it('advertises and checks SIZE', async () => {
    const { client } = await openAs(gateway.port, '192.0.2.42')
    const ehlo = await client.command('EHLO client.test')
    assert.ok(ehlo.lines.some((l) => /^250[- ]SIZE 65536$/.test(l)), ehlo.text)
    expectReply(await client.command('MAIL FROM:<a@outside.example> SIZE=65536'), 250, null, 'SIZE at the limit')
    await client.command('RSET')
    const over = await client.command('MAIL FROM:<a@outside.example> SIZE=65537')
    client.close()
    expectReply(over, 552, '5.3.4', 'SIZE over the limit')
  })

  it('checks the size of the data', async () => {
    const atLimit = await ready(gateway.port, '192.0.2.43')
    expectReply(await sendOne(atLimit, messageOfSize(65536)), 250, null, '65536 bytes')
    atLimit.close()
    const over = await ready(gateway.port, '192.0.2.44')
    const reply = await sendOne(over, messageOfSize(65537))
    over.close()
    expectReply(reply, 552, '5.3.4', '65537 bytes')
  })

  it('limits the bytes of a session', async () => {
    const client = await ready(gateway.port, '192.0.2.45')
    expectReply(await sendOne(client, messageOfSize(32768)), 250, null, 'first half')
    expectReply(await sendOne(client, messageOfSize(32768)), 250, null, 'second half, at the limit')
    const third = await client.command('MAIL FROM:<a@outside.example>')
    client.close()
    expectReply(third, 452, '4.3.4', 'MAIL after the limit')

    const other = await ready(gateway.port, '192.0.2.46')
    expectReply(await sendOne(other, messageOfSize(32768)), 250, null, 'first half')
    const crossing = await sendOne(other, messageOfSize(32769))
    other.close()
    expectReply(crossing, 452, '4.3.4', 'message that crosses the limit')
  })

  it('limits the Received count', async () => {
    const hop = (n: number) => `Received: from hop${n}.example by next.example; Fri, 04 Dec 2026 10:00:0${n} +0000`
    const client = await ready(gateway.port, '192.0.2.47')
    expectReply(await sendOne(client, messageOfSize(1000, [hop(1), hop(2), hop(3)])), 250, null, '3 hops')
    const loop = await sendOne(client, messageOfSize(1000, [hop(1), hop(2), hop(3), hop(4)]))
    client.close()
    expectReply(loop, 554, '5.4.6', '4 hops')
  })

  it('refuses a header Haraka would cut', async () => {
    const pad = (count: number) => Array.from({ length: count }, (_, i) => `X-Pad-${i}: p`)
    const client = await ready(gateway.port, '192.0.2.48')
    expectReply(await sendOne(client, messageOfSize(20000, pad(990))), 250, null, '993 header lines')
    expectReply(await sendOne(client, messageOfSize(20000, pad(1000))), 552, '5.3.4', '1003 header lines')
    // Without an empty line, Haraka reads every line as a header line.
    const noSeparator = ['From: a@outside.example', 'Subject: no separator', 'not a header', ...Array.from({ length: 1100 }, (_, i) => `line ${i}`), ''].join('\r\n')
    expectReply(await sendOne(client, noSeparator), 552, '5.3.4', '1103 lines without an empty line')
    client.close()
  })

  it('accepts mail while the queue has room', async () => {
    const client = await ready(gateway.port, '192.0.2.48')
    const reply = await client.command('MAIL FROM:<a@outside.example>')
    client.close()
    expectReply(reply, 250, null, 'free space above MinimalQueueFreeSpaceSize')
  })

  it('closes a session waiting for DATA after ReceivingDataInitiationTimeout', async () => {
    const client = await ready(gateway.port, '192.0.2.49')
    await client.command('MAIL FROM:<a@outside.example>')
    expectReply(await client.command('RCPT TO:<b@corp.example>'), 250, null, 'RCPT')
    const started = Date.now()
    const reply = await client.read(10000)
    const elapsed = Date.now() - started
    client.close()
    assert.equal(reply.code, 421, reply.text)
    assert.ok(elapsed >= 2500, `closed after ${elapsed} ms, before the timeout`)
    assert.ok(elapsed < 5000, `closed after ${elapsed} ms, long after the timeout`)
  })

  it('closes a stalled DATA after ReceivingDataTerminationTimeout', async () => {
    const client = await ready(gateway.port, '192.0.2.50')
    await client.command('MAIL FROM:<a@outside.example>')
    await client.command('RCPT TO:<b@corp.example>')
    assert.equal((await client.command('DATA')).code, 354)
    const started = Date.now()
    const reply = await client.read(10000)
    const elapsed = Date.now() - started
    client.close()
    assert.equal(reply.code, 421, reply.text)
    assert.ok(elapsed >= 2500, `closed after ${elapsed} ms, before the timeout`)
    assert.ok(elapsed < 5000, `closed after ${elapsed} ms, long after the timeout`)
  })

  it('shares OutgoingSessions among the workers', () => {
    const outbound = readFileSync(path.join(gateway.dir, 'run', 'config', 'outbound.ini'), 'utf8')
    assert.match(outbound, /^concurrency_max=3$/m)
  })
})

describe('queue space and receiving timeouts', () => {
  let gateway: TestGateway

  before(async () => {
    const free = Number(statfsSync(os.tmpdir()).bavail) * Number(statfsSync(os.tmpdir()).bsize)
    const tight = Math.floor(free / 1024 / 1024) + 1024
    gateway = await startTestGateway({
      conf: `
[mailgw.network]
ListenOn=127.0.0.1:%PORT%
Hostname=gw.test.example
Postmaster=admin@corp.example
ProtectedDomains=corp.example

[mailgw.limits]
MinimalQueueFreeSpaceSize=${tight}

[mailgw.timeouts]
ReceivingCommandTimeout=2

[mailgw.options]
Xclient=true
${POLICY}`,
    })
  })

  after(() => gateway?.stop())

  it('tempfails MAIL when the queue file system is short of space', async () => {
    const client = await ready(gateway.port, '192.0.2.60')
    const reply = await client.command('MAIL FROM:<a@outside.example>')
    client.close()
    expectReply(reply, 452, '4.3.1', 'MAIL with the queue short of space')
    await gateway.waitForOutput(/tempfail stage=mail rule=MinimalQueueFreeSpaceSize client=192\.0\.2\.60/)
  })

  it('closes an idle session after ReceivingCommandTimeout', async () => {
    const client = await ready(gateway.port, '192.0.2.61')
    const started = Date.now()
    const reply = await client.read(10000)
    const elapsed = Date.now() - started
    client.close()
    assert.equal(reply.code, 421, reply.text)
    assert.ok(elapsed >= 1500, `closed after ${elapsed} ms, before the timeout`)
    assert.ok(elapsed < 4000, `closed after ${elapsed} ms, long after the timeout`)
  })
})
