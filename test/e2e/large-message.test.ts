// A large message through the real gateway, private clamd included: two group copies, the
// IncomingBcc copy and both archives are built from one held copy of the message and views of it.
// Each must carry the body exactly as sent, and nothing may stay behind in the spool or the queue.

import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'

import { localClamdPreamble } from '../helpers/av-messages'
import { startTestGateway, type TestGateway } from '../helpers/gateway'
import { startSink, type Sink } from '../helpers/sink'
import { freePort, sendMail } from '../helpers/smtp'

const ATTACHMENT_BYTES = 24 * 1024 * 1024

/** Builds a message with a text part and a base64 attachment of deterministic bytes. */
function largeMessage(): Buffer {
  const data = Buffer.alloc(ATTACHMENT_BYTES)
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24
  const base64 = data.toString('base64').replace(/.{76}/g, '$&\r\n')
  const head = [
    'From: <alice@outside.example>',
    'To: <bob@corp.example>, <dave@sales.example>',
    'Subject: large message',
    'Message-ID: <large-1@outside.example>',
    'Date: Fri, 04 Dec 2026 10:00:00 +0000',
    'X-SpamTest-Status: Not detected',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain',
    '',
    'The data is attached.',
    '.a line that starts with a dot',
    '--b1',
    'Content-Type: application/octet-stream; name="data.bin"',
    'Content-Transfer-Encoding: base64',
    '',
    '',
  ].join('\r\n')
  return Buffer.from(`${head}${base64}\r\n--b1--\r\n`, 'latin1')
}

function body(raw: Buffer): Buffer {
  return raw.subarray(raw.indexOf('\r\n\r\n') + 4)
}

/** Returns the header block with folded fields unfolded. */
function headers(raw: Buffer): string {
  return raw.subarray(0, raw.indexOf('\r\n\r\n')).toString('latin1').replace(/\r\n[ \t]+/g, ' ')
}

function files(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]))
}

describe('large message', () => {
  let gateway: TestGateway
  let sink: Sink
  const message = largeMessage()

  before(async () => {
    sink = await startSink(await freePort())
    const conf = `${localClamdPreamble(sink.port)}
[mailgw.limits]
MaximalIncomingMessageSize=65536
MaximalIncomingSessionSize=65536

[mailgw.archive]
IncomingArchivePath=var/archive/in
OutgoingArchivePath=var/archive/out
IncomingBcc=archive@corp.example

[mailgw.policy]
CheckAV=true

[mailgw.group:sales]
Recipients=*@sales.example
`
    gateway = await startTestGateway({ conf })
  })

  after(async () => {
    await gateway?.stop()
    await sink?.close()
  })

  it('delivers every copy with the body as sent', { timeout: 180000 }, async () => {
    const result = await sendMail({ port: gateway.port, from: 'alice@outside.example', to: ['bob@corp.example', 'dave@sales.example'], message })
    assert.equal(result.final?.code, 250, result.final?.text)

    const delivered = await sink.waitFor(3, 120000)
    const byRecipient = new Map(delivered.map((m) => [m.to.join(','), m.raw]))
    assert.deepEqual([...byRecipient.keys()].sort(), ['archive@corp.example', 'bob@corp.example', 'dave@sales.example'])
    for (const [to, raw] of byRecipient) {
      assert.ok(body(raw).equals(body(message)), `the body delivered to ${to} is the body sent`)
      assert.doesNotMatch(headers(raw), /^X-SpamTest-Status: Not detected$/m, `the forged field is gone for ${to}`)
    }
    for (const to of ['bob@corp.example', 'dave@sales.example']) {
      assert.match(headers(byRecipient.get(to) as Buffer), /^X-Anti-Virus: .*clean$/m, `the copy for ${to} was scanned`)
    }
  })

  it('archives the message and its copies whole', () => {
    const incoming = files(path.join(gateway.dir, 'var', 'archive', 'in')).filter((f) => f.endsWith('.eml'))
    assert.equal(incoming.length, 1)
    assert.ok(body(readFileSync(incoming[0])).equals(body(message)))

    const outgoing = files(path.join(gateway.dir, 'var', 'archive', 'out')).filter((f) => f.endsWith('.eml'))
    assert.equal(outgoing.length, 2)
    for (const file of outgoing) assert.ok(body(readFileSync(file)).equals(body(message)), `${path.basename(file)} holds the whole body`)
  })

  it('leaves nothing in the spool or the queue', async () => {
    const spool = path.join(gateway.dir, 'var', 'spool')
    const queue = path.join(gateway.dir, 'var', 'queue')
    const deadline = Date.now() + 10000
    while (files(queue).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
    assert.ok(existsSync(spool), 'the spool directory exists')
    assert.deepEqual(files(spool), [])
    assert.deepEqual(files(queue), [])
  })
})
