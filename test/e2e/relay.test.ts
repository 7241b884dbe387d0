// The gateway as a relay: SMTP in, Haraka's outbound queue, ForwardRoute out, against the real
// gateway started with `mailgw start` and SMTP sinks on loopback.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startTestGateway, type TestGateway } from '../helpers/gateway'
import { startSink, type Sink } from '../helpers/sink'
import { freePort, sendMail, SmtpClient } from '../helpers/smtp'

function message(subject: string, body = 'Hello from the test.\r\n.leading dot line\r\n'): string {
  return [
    'From: Alice <alice@outside.example>',
    'To: Bob <bob@corp.example>',
    `Subject: ${subject}`,
    'Date: Fri, 04 Dec 2026 10:00:00 +0000',
    `Message-ID: <${subject.replace(/\W/g, '')}@outside.example>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'X-Custom: kept as sent',
    '',
    body,
  ].join('\r\n')
}

/** Splits a raw message at the blank line; returns header lines and the body. */
function split(raw: Buffer): { headers: string[]; body: string } {
  const text = raw.toString('latin1')
  const end = text.indexOf('\r\n\r\n')
  return { headers: text.slice(0, end).split(/\r\n(?![ \t])/), body: text.slice(end + 4) }
}

describe('relay through the outbound queue', () => {
  let gateway: TestGateway
  let corp: Sink
  let branch: Sink
  let other: Sink
  let laterPort: number
  let secondPort: number

  before(async () => {
    secondPort = await freePort()
    corp = await startSink(await freePort())
    branch = await startSink(await freePort())
    other = await startSink(await freePort())
    laterPort = await freePort()
    const conf = `
# end-to-end relay test
[mailgw.network]
ListenOn=127.0.0.1:%PORT%
ListenOn=127.0.0.1:${secondPort}
Hostname=gw.test.example
Postmaster=admin@corp.example
ProtectedDomains=corp.example
ProtectedDomains=branch.example
ProtectedDomains=later.example

[mailgw.forward]
ForwardRoute=*@branch.example [localhost:${branch.port}]
ForwardRoute=*@later.example [127.0.0.1:${laterPort}]
ForwardRoute=*@corp.example [127.0.0.1:${corp.port}]
ForwardRoute=* [127.0.0.1:${other.port}]

[mailgw.timeouts]
MinimalBackoffTime=5s
MaximalBackoffTime=5s

# These tests are about relaying; the scanners have their own end-to-end tests.
[mailgw.policy]
CheckAV=false
CheckSpam=false
`
    gateway = await startTestGateway({ conf })
  })

  after(async () => {
    await gateway?.stop()
    await Promise.all([corp, branch, other].map((s) => s?.close()))
  })

  it('greets with the configured Hostname', async () => {
    const { client, greeting } = await SmtpClient.connect(gateway.port)
    client.close()
    assert.equal(greeting.code, 220)
    assert.match(greeting.text, /^gw\.test\.example /)
  })

  it('listens on every ListenOn address', async () => {
    const { client, greeting } = await SmtpClient.connect(secondPort)
    client.close()
    assert.equal(greeting.code, 220)
  })

  it('adds a Message-Id with the Hostname', async () => {
    const sent = 'From: alice@outside.example\r\nTo: bob@corp.example\r\nSubject: no id\r\n\r\nbody\r\n'
    const result = await sendMail({ port: gateway.port, from: 'alice@outside.example', to: ['bob@corp.example'], message: sent })
    assert.equal(result.final?.code, 250)
    const got = await corp.waitFor(1)
    const headers = split(got[0].raw).headers.join('\n')
    assert.match(headers, /^Message-Id: <[0-9A-F-]+\.\d+@gw\.test\.example>$/im)
    assert.match(headers, /^Date: /m)
    corp.messages.length = 0
  })

  it('delivers headers and body intact', async () => {
    const sent = message('intact')
    const result = await sendMail({ port: gateway.port, from: 'alice@outside.example', to: ['bob@corp.example'], message: sent })
    assert.equal(result.final?.code, 250)

    const [got] = await corp.waitFor(1)
    assert.equal(got.from, 'alice@outside.example')
    assert.deepEqual(got.to, ['bob@corp.example'])
    assert.equal(got.heloName, 'gw.test.example')

    const original = split(Buffer.from(sent, 'latin1'))
    const delivered = split(got.raw)
    assert.equal(delivered.body, original.body)
    const added = delivered.headers.filter((h) => !original.headers.includes(h))
    assert.ok(added.length >= 1, 'a Received header is added')
    for (const h of added) assert.match(h, /^Received:/i)
    // The original header block follows the trace headers unchanged and in order.
    assert.deepEqual(delivered.headers.slice(added.length), original.headers)
  })

  it('delivers each route of one message', async () => {
    const result = await sendMail({
      port: gateway.port,
      from: 'alice@outside.example',
      to: ['carol@corp.example', 'dave@branch.example'],
      message: message('two routes'),
    })
    assert.equal(result.final?.code, 250)
    const [toCorp] = await corp.waitFor(2)
    const [toBranch] = await branch.waitFor(1)
    assert.deepEqual(corp.messages[1].to, ['carol@corp.example'])
    assert.deepEqual(toBranch.to, ['dave@branch.example'])
    assert.ok(toCorp)
  })

  it('rejects a recipient outside ProtectedDomains', async () => {
    const result = await sendMail({ port: gateway.port, from: 'alice@outside.example', to: ['eve@elsewhere.example'], message: message('relay') })
    assert.equal(result.rcpts[0].code, 550)
    assert.equal(result.rcpts[0].enhanced, '5.7.1')
    assert.equal(result.final, undefined)
    await gateway.waitForOutput(/reject stage=rcpt rule=ProtectedDomains .*to=<eve@elsewhere\.example>/)
  })

  it('redirects postmaster to the Postmaster address', async () => {
    const result = await sendMail({ port: gateway.port, from: 'alice@outside.example', to: ['postmaster@gw.test.example'], message: message('pm') })
    assert.equal(result.final?.code, 250)
    const got = await corp.waitFor(3)
    assert.deepEqual(got[2].to, ['admin@corp.example'])
  })

  it('retries until the downstream comes up', async () => {
    const result = await sendMail({ port: gateway.port, from: 'alice@outside.example', to: ['frank@later.example'], message: message('retry') })
    assert.equal(result.final?.code, 250)
    await gateway.waitForOutput(/tempfail stage=delivery .*to=frank@later\.example/)

    const later = await startSink(laterPort)
    try {
      const [got] = await later.waitFor(1, 30000)
      assert.deepEqual(got.to, ['frank@later.example'])
      assert.match(split(got.raw).headers.join('\n'), /Subject: retry/)
    } finally {
      await later.close()
    }
  })
})

describe('queue lifetime', () => {
  it('bounces with a DSN when the lifetime runs out', async () => {
    const senderSink = await startSink(await freePort())
    const deadPort = await freePort()
    const gateway = await startTestGateway({
      conf: `
[mailgw.network]
ListenOn=127.0.0.1:%PORT%
Hostname=gw.test.example
Postmaster=admin@corp.example
ProtectedDomains=corp.example

[mailgw.forward]
ForwardRoute=*@corp.example [127.0.0.1:${deadPort}]
ForwardRoute=* [127.0.0.1:${senderSink.port}]

[mailgw.timeouts]
MinimalBackoffTime=5s
MaximalBackoffTime=5s
MaximalQueueLifetime=12s

# These tests are about relaying; the scanners have their own end-to-end tests.
[mailgw.policy]
CheckAV=false
CheckSpam=false
`,
    })
    try {
      const result = await sendMail({ port: gateway.port, from: 'alice@outside.example', to: ['bob@corp.example'], message: message('lifetime') })
      assert.equal(result.final?.code, 250)

      const [dsn] = await senderSink.waitFor(1, 60000)
      assert.equal(dsn.from, '')
      assert.deepEqual(dsn.to, ['alice@outside.example'])
      const text = dsn.raw.toString('latin1')
      assert.match(text, /^From: Mail Delivery System <admin@corp\.example>/m)
      assert.match(text, /^Message-Id: <[^>]+@gw\.test\.example>/im)
      assert.match(text, /bob@corp\.example/)
      assert.match(text, /lifetime/)
    } finally {
      await gateway.stop()
      await senderSink.close()
    }
  })
})
