// Incoming and outgoing archives and IncomingBcc against the real gateway, with marker engines.
// After clean, infected and spam mail the archives hold exactly what they should, the blind copy
// arrives once and unscanned, and a blind copy sent back to the gateway gets no second blind copy.
// An unwritable incoming or outgoing archive gives a temporary failure and leaves nothing behind.

import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'

import { PACKAGE_ROOT, startTestGateway, type TestGateway } from '../helpers/gateway'
import { startSink, type Sink } from '../helpers/sink'
import { freePort, sendMail } from '../helpers/smtp'
import { bySubject, delay, ENGINE_MODULE, headerValues, infectedMessage, storeEntries, testMessage, waitUntil } from './archive-helpers'

function gatewayConf(sinkPort: number, archive: string): string {
  return `
[mailgw.network]
ListenOn=127.0.0.1:%PORT%
Hostname=gw.test.example
Postmaster=admin@corp.example
ProtectedDomains=corp.example

[mailgw.forward]
ForwardRoute=* [127.0.0.1:${sinkPort}]

[mailgw.options]
EngineModule=engines.js

[mailgw.archive]
${archive}

[mailgw.policy]
BlockMessage=as/spam,av/infected
QuarantineMessage=av/infected
NotifyAdmin=none
NotifyRecipient=none
`
}

describe('archives and blind copies', () => {
  let gateway: TestGateway
  let sink: Sink
  let incoming: string
  let outgoing: string
  let spool: string

  before(async () => {
    sink = await startSink(await freePort())
    const archive = 'IncomingArchivePath=var/arch_in\nOutgoingArchivePath=var/arch_out\nIncomingBcc=archive@corp.example'
    // Every message and copy is spooled to a file here, so a test can see that none is left behind.
    spool = mkdtempSync(path.join(os.tmpdir(), 'mailgw-spool-'))
    const connection = readFileSync(path.join(PACKAGE_ROOT, 'node_modules', 'Haraka', 'config', 'connection.ini'), 'utf8')
      .replace(/^; spool_dir=.*$/m, `spool_dir=${spool}`)
      .replace(/^; spool_after=.*$/m, 'spool_after=0')
    gateway = await startTestGateway({ conf: gatewayConf(sink.port, archive), files: { 'engines.js': ENGINE_MODULE, 'connection.ini': connection } })
    incoming = path.join(gateway.dir, 'var', 'arch_in')
    outgoing = path.join(gateway.dir, 'var', 'arch_out')
  })

  after(async () => {
    await gateway?.stop()
    await sink?.close()
    rmSync(spool, { recursive: true, force: true })
  })

  it('archives clean, infected and spam mail', async () => {
    const sent = [
      { subject: 'clean-one', message: testMessage('clean-one') },
      { subject: 'infected-one', message: infectedMessage('infected-one') },
      { subject: 'SPAMWORD spam-one', message: testMessage('SPAMWORD spam-one') },
    ]
    for (const { message } of sent) {
      const result = await sendMail({ port: gateway.port, from: 'alice@outside.example', to: ['staff@corp.example'], message })
      assert.equal(result.final?.code, 250)
    }

    const inEntries = storeEntries(incoming)
    assert.equal(inEntries.length, 3, 'one incoming entry per received message')
    for (const { subject } of sent) {
      const entry = inEntries.find((e) => e.eml.includes(`Subject: ${subject}\r\n`))
      assert.ok(entry, `incoming archive holds ${subject}`)
      assert.deepEqual(entry.metadata.status, ['incoming'])
      assert.deepEqual(entry.metadata.envelope, { from: 'alice@outside.example', to: ['staff@corp.example'] })
      assert.ok(!/^X-Anti-Virus:/im.test(entry.eml), 'the incoming copy is unscanned')
    }
    assert.ok(inEntries.some((e) => e.eml.includes('VIRUS-MARKER')), 'the infected message is archived as received')

    const outEntries = storeEntries(outgoing)
    assert.equal(outEntries.length, 3, 'one outgoing entry per copy, delivered or blocked')
    const clean = outEntries.find((e) => e.eml.includes('clean-one'))
    const infected = outEntries.find((e) => e.eml.includes('infected-one'))
    const spam = outEntries.find((e) => e.eml.includes('spam-one'))
    assert.deepEqual(clean?.metadata.reasons, ['queued for delivery'])
    assert.match(clean?.eml ?? '', /^X-Anti-Virus: haraka-mailgw/m, 'the delivered copy is archived as sent')
    assert.deepEqual(infected?.metadata.reasons, ['blocked by av/infected'])
    assert.deepEqual(spam?.metadata.reasons, ['blocked by as/spam'])
    for (const entry of outEntries) assert.deepEqual(entry.metadata.status, ['outgoing'])
  })

  it('sends each blind copy once, unscanned', async () => {
    await sink.waitFor(4)
    await delay(1500)
    const bcc = sink.messages.filter((m) => m.to.includes('archive@corp.example'))
    assert.equal(bcc.length, 3, 'one blind copy per received message')
    for (const copy of bcc) {
      assert.deepEqual(copy.to, ['archive@corp.example'])
      assert.equal(copy.from, 'admin@corp.example')
      assert.equal(headerValues(copy.raw, 'X-Mailgw-Loop').length, 1)
      assert.deepEqual(headerValues(copy.raw, 'X-Anti-Virus'), [])
    }
    const infectedCopy = bcc.find((m) => m.raw.toString().includes('infected-one'))
    assert.ok(infectedCopy?.raw.toString().includes('VIRUS-MARKER'), 'the blind copy keeps the infected object')
    const staff = sink.messages.filter((m) => m.to.includes('staff@corp.example'))
    assert.equal(staff.length, 1, 'only the clean message reaches the recipient')
    assert.equal(bySubject(sink, 'clean-one').length, 2)
  })

  it('sends no blind copy of a blind copy', async () => {
    const copy = sink.messages.find((m) => m.to.includes('archive@corp.example') && m.raw.toString().includes('clean-one'))
    assert.ok(copy)
    const before = sink.messages.length
    const result = await sendMail({ port: gateway.port, from: 'admin@corp.example', to: ['archive@corp.example'], message: copy.raw })
    assert.equal(result.final?.code, 250)
    await sink.waitFor(before + 1)
    await delay(1500)
    assert.equal(sink.messages.length, before + 1, 'the returning copy is delivered, with no new blind copy')
  })

  it('sends a blind copy despite a forged mark', async () => {
    const before = sink.messages.length
    const forged = testMessage('forged-mark', 'Hello.\r\n', ['X-Mailgw-Loop: gw.test.example 0123456789abcdef0123456789abcdef'])
    const result = await sendMail({ port: gateway.port, from: 'alice@outside.example', to: ['staff@corp.example'], message: forged })
    assert.equal(result.final?.code, 250)
    await waitUntil(() => sink.messages.length >= before + 2, 'delivery and blind copy')
    assert.equal(bySubject(sink, 'forged-mark').filter((m) => m.to.includes('archive@corp.example')).length, 1)
  })

  it('strips forged verdicts from the blind copy', async () => {
    const forged = testMessage('forged-verdict', 'Hello.\r\n', [
      'X-Anti-Virus: haraka-mailgw 0.1.0, bases: 20261201 #3, check: 20261204 clean',
      'x-anti-virus: clean',
      'X-SPAMTEST-STATUS: Not detected',
      'X-SpamTest-Status-Extended:',
      '  not_detected',
      'X-Spamtest-Rate : 0',
      'X-SpamTest-Info: line one',
      '\tline two',
      'X-Other: kept',
    ])
    const result = await sendMail({ port: gateway.port, from: 'alice@outside.example', to: ['staff@corp.example'], message: forged })
    assert.equal(result.final?.code, 250)
    await waitUntil(() => bySubject(sink, 'forged-verdict').some((m) => m.to.includes('archive@corp.example')), 'blind copy')

    const copy = bySubject(sink, 'forged-verdict').find((m) => m.to.includes('archive@corp.example'))
    assert.ok(copy)
    const raw = copy.raw.toString('latin1')
    assert.doesNotMatch(raw, /^x-anti-virus/im)
    assert.doesNotMatch(raw, /^x-spamtest-/im)
    assert.doesNotMatch(raw, /not_detected|line two/, 'folded lines go with their fields')
    assert.equal(headerValues(copy.raw, 'X-Mailgw-Loop').length, 1)
    assert.deepEqual(headerValues(copy.raw, 'X-Other'), ['kept'])
    assert.match(raw, /^Received: /m)
    assert.ok(raw.endsWith('\r\n\r\nHello.\r\n'), 'the body is unchanged')

    const archived = storeEntries(incoming).find((e) => e.eml.includes('forged-verdict'))
    assert.match(archived?.eml ?? '', /^X-SPAMTEST-STATUS: Not detected\r\n/m, 'the incoming archive keeps the message as received')
  })

  it('answers 4xx when the outgoing archive is unwritable', async () => {
    // Root ignores permissions, but no one can create a path below a regular file.
    const saved = `${outgoing}.saved`
    renameSync(outgoing, saved)
    writeFileSync(outgoing, 'not a directory\n')
    try {
      const incomingBefore = storeEntries(incoming).length
      const quarantine = path.join(gateway.dir, 'var', 'quarantine', 'av')
      const quarantineBefore = storeEntries(quarantine).length
      const sinkBefore = sink.messages.length

      // The clean message would be delivered and the infected one quarantined, both with a blind copy.
      for (const message of [testMessage('outgoing-down-clean'), infectedMessage('outgoing-down-infected')]) {
        const result = await sendMail({ port: gateway.port, from: 'alice@outside.example', to: ['staff@corp.example'], message })
        assert.equal(result.final?.code, 451)
        assert.equal(result.final?.enhanced, '4.3.0')
      }
      await gateway.waitForOutput(/outgoing archive or notification failed/)
      await delay(1500)

      assert.equal(sink.messages.length, sinkBefore, 'nothing is delivered, blind copies included')
      assert.equal(storeEntries(quarantine).length, quarantineBefore, 'the quarantine entry is removed')
      assert.equal(storeEntries(incoming).length, incomingBefore, 'the incoming archive entries are removed')
      const queued = readdirSync(path.join(gateway.dir, 'var', 'queue')).filter((name) => !name.startsWith('.'))
      assert.deepEqual(queued, [], 'nothing is left in the outbound queue')
      assert.deepEqual(readdirSync(spool), [], 'no spool file of the message or its copies is left')
    } finally {
      rmSync(outgoing, { force: true })
      renameSync(saved, outgoing)
    }
  })
})

describe('unwritable incoming archive', () => {
  let gateway: TestGateway
  let sink: Sink
  let blocker: string

  before(async () => {
    sink = await startSink(await freePort())
    // A path below a regular file cannot be created, even by root.
    blocker = path.join(os.tmpdir(), `mailgw-archive-blocker-${process.pid}`)
    writeFileSync(blocker, 'not a directory\n')
    gateway = await startTestGateway({ conf: gatewayConf(sink.port, `IncomingArchivePath=${blocker}/arch_in`), files: { 'engines.js': ENGINE_MODULE } })
  })

  after(async () => {
    await gateway?.stop()
    await sink?.close()
    rmSync(blocker, { force: true })
  })

  it('answers 4xx and delivers nothing', async () => {
    const result = await sendMail({ port: gateway.port, from: 'alice@outside.example', to: ['staff@corp.example'], message: testMessage('archive-down') })
    assert.equal(result.final?.code, 451)
    assert.equal(result.final?.enhanced, '4.3.0')
    await gateway.waitForOutput(/incoming archive write failed/)
    await delay(1500)
    assert.equal(sink.messages.length, 0)
  })
})
