// The KMG guide's maximum protection mode, written as the guide gives it, against the real
// gateway and a private clamd: infected and encrypted objects are removed from delivered mail,
// the recipient and the administrator are told, and any spam status blocks and quarantines.

import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { eicar, encryptedZip } from '../helpers/clamd'
import { messageWith } from '../helpers/av-messages'
import { startTestGateway, type TestGateway } from '../helpers/gateway'
import { startSink, type Sink } from '../helpers/sink'
import { freePort, sendMail } from '../helpers/smtp'
import type { ReceivedMessage } from '../../src/mailbox/server'

const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'

describe('KMG maximum protection mode', () => {
  let gateway: TestGateway
  let sink: Sink

  before(async () => {
    sink = await startSink(await freePort())
    gateway = await startTestGateway({
      conf: `
[mailgw.network]
ListenOn=127.0.0.1:%PORT%
Hostname=gw.test.example
Postmaster=postmaster@corp.example
ProtectedDomains=corp.example
ProtectedDomains=files.example

[mailgw.forward]
ForwardRoute=* [127.0.0.1:${sink.port}]

[mailgw.local]
Clamd=true

[mailgw.policy]
AdminNotifyAddress=admin@corp.example
ASQuarantinePath=var/quarantine/as
SpamUseDNS=false
SpamRateLimit=maximum
AVCure=true
AVScanArchives=true
AVScanMailBases=true
CheckAV=true
CheckSpam=true
MarkSubject=spam,probable,formal,blacklisted
ActionDisinfected=cure
ActionInfected=remove
ActionSuspicious=remove
ActionProtected=remove
ActionError=remove
BlockMessage=as/all
QuarantineMessage=as/all
NotifyRecipient=av/infected,av/suspicious,av/protected,av/error
NotifyAdmin=av/infected,av/suspicious,av/protected,av/error

[mailgw.group:files]
Recipients=*@files.example
IncludeByMime=application/*
ExcludeByMime=application/pdf
ActionFiltered=remove
BlockMessage=av/infected
NotifyAdmin=
NotifyRecipient=
`,
    })
  })

  after(async () => {
    await gateway?.stop()
    await sink?.close()
  })

  async function waitFor(match: (m: ReceivedMessage) => boolean, what: string): Promise<ReceivedMessage> {
    const deadline = Date.now() + 30000
    while (Date.now() < deadline) {
      const found = sink.messages.find(match)
      if (found) return found
      await new Promise((r) => setTimeout(r, 100))
    }
    throw new Error(`${what} did not arrive\n${gateway.output().slice(-3000)}`)
  }

  const subjectIs = (subject: string) => (m: ReceivedMessage) => m.raw.toString('latin1').includes(`\r\nSubject: ${subject}\r\n`)

  it('removes a virus and notifies', async () => {
    const message = messageWith('max infected', [{ filename: 'eicar.com', contentType: 'application/octet-stream', content: eicar() }])
    const result = await sendMail({ port: gateway.port, from: 'sender@outside.example', to: ['user@corp.example'], message })
    assert.equal(result.final?.code, 250, result.final?.text)

    const copy = await waitFor(subjectIs('max infected'), 'the cleaned message')
    assert.deepEqual(copy.to, ['user@corp.example'])
    assert.ok(!copy.raw.includes(eicar()), 'the virus is removed')
    const unfolded = copy.raw.toString('latin1').replace(/\r\n[ \t]+/g, ' ')
    assert.match(unfolded, /^X-Anti-Virus: .*check: \d{8} infected\r$/m)

    await waitFor((m) => m.to.includes('admin@corp.example') && m.raw.includes('eicar.com'), 'the admin notification')
    await waitFor((m) => m.from !== 'sender@outside.example' && m.to.includes('user@corp.example') && m.raw.includes('eicar.com'), 'the recipient notification')
  })

  it('removes an encrypted archive', async () => {
    const zip = encryptedZip('report.doc', Buffer.from('quarterly figures'))
    const message = messageWith('max protected', [{ filename: 'report.zip', contentType: 'application/zip', content: zip }])
    const result = await sendMail({ port: gateway.port, from: 'sender@outside.example', to: ['user@corp.example'], message })
    assert.equal(result.final?.code, 250, result.final?.text)

    const copy = await waitFor(subjectIs('max protected'), 'the cleaned message')
    assert.ok(!copy.raw.includes(zip.subarray(0, 64).toString('base64').slice(0, 40)), 'the archive is removed')
    await waitFor((m) => m.to.includes('admin@corp.example') && m.raw.includes('report.zip'), 'the admin notification')
  })

  it('blocks and quarantines spam', async () => {
    const message = `From: sender@outside.example\r\nTo: user@corp.example\r\nSubject: max spam\r\nDate: Fri, 04 Dec 2026 10:00:00 +0000\r\nMessage-ID: <maxspam@outside.example>\r\n\r\n${GTUBE}\r\n`
    const result = await sendMail({ port: gateway.port, from: 'sender@outside.example', to: ['user@corp.example'], message })
    assert.equal(result.final?.code, 250, result.final?.text)

    await gateway.waitForOutput(/block stage=policy[^\n]*spam=as\/spam/)
    await new Promise((r) => setTimeout(r, 1000))
    assert.equal(sink.messages.filter(subjectIs('max spam')).length, 0, 'spam is not delivered')

    const store = path.join(gateway.dir, 'var', 'quarantine', 'as')
    const entries = existsSync(store) ? readdirSync(store).filter((f) => f.endsWith('.json')) : []
    assert.equal(entries.length, 1)
    const meta = JSON.parse(readFileSync(path.join(store, entries[0]), 'utf8')) as { status: string[] }
    assert.ok(meta.status.includes('as/spam'))
  })

  it('filters attachments by MIME type', async () => {
    const message = messageWith(
      'by type',
      [
        { filename: 'tool.bin', contentType: 'application/octet-stream', content: Buffer.from('binary tool') },
        { filename: 'paper.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF-1.4 paper') },
      ],
      'staff@files.example',
    )
    const result = await sendMail({ port: gateway.port, from: 'sender@outside.example', to: ['staff@files.example'], message })
    assert.equal(result.final?.code, 250, result.final?.text)

    const copy = (await waitFor(subjectIs('by type'), 'the filtered message')).raw.toString('latin1')
    assert.ok(!copy.includes('filename="tool.bin"'), 'application/octet-stream is removed')
    assert.ok(copy.includes('filename="paper.pdf"'), 'the excluded type stays')
    await gateway.waitForOutput(/deliver stage=policy[^\n]*group=files[^\n]*av\/filtered/)
  })
})
