// Policy groups and virtual copies against the real gateway (`mailgw start`). The scanning engines
// come from an engine module written into the test's config directory. Its anti-spam engine reads a
// marker word in the message, and its anti-virus engine a marker string in an object.

import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'

import { startTestGateway, type TestGateway } from '../helpers/gateway'
import { startSink, type Sink } from '../helpers/sink'
import { freePort, sendMail } from '../helpers/smtp'

const ENGINE_MODULE = `
// Test engines: verdicts come from marker words, so each test chooses its verdict.
exports.createEngines = () => ({
  antispam: {
    name: 'marker-spam',
    version: '1.0',
    settingsKeys: ['SpamRateLimit'],
    async check(raw) {
      const text = raw.toString('latin1')
      if (text.includes('SPAMWORD')) return { status: 'as/spam', rate: 95, method: 'marker', info: ['marker SPAMWORD'] }
      if (text.includes('MAYBESPAM')) return { status: 'as/probable', rate: 60, method: 'marker', info: [] }
      return { status: null, rate: 0, method: 'none', info: [] }
    },
  },
  antivirus: {
    name: 'marker-av',
    version: '1.0',
    settingsKeys: [],
    async bases() { return { date: new Date('2026-12-01T00:00:00Z'), signatures: 3 } },
    async scan(object) {
      return object.decoded.includes('VIRUS-MARKER') ? { status: 'av/infected', detail: 'Test.Marker' } : { status: 'av/clean' }
    },
  },
})
`

function message(subject: string, extraHeaders: string[] = [], body = 'Hello.\r\n'): string {
  return [
    'From: Alice <alice@outside.example>',
    'To: staff@corp.example',
    `Subject: ${subject}`,
    'Date: Fri, 04 Dec 2026 10:00:00 +0000',
    `Message-ID: <${subject.replace(/\W/g, '')}@outside.example>`,
    ...extraHeaders,
    '',
    body,
  ].join('\r\n')
}

function headerBlock(raw: Buffer): string {
  const text = raw.toString('latin1')
  return text.slice(0, text.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ')
}

function headerValues(raw: Buffer, name: string): string[] {
  const prefix = `${name.toLowerCase()}:`
  return headerBlock(raw)
    .split('\r\n')
    .filter((line) => line.toLowerCase().startsWith(prefix))
    .map((line) => line.slice(prefix.length).trim())
}

function bySubject(sink: Sink, marker: string) {
  return sink.messages.filter((m) => headerValues(m.raw, 'Subject').some((s) => s.includes(marker)))
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function quarantineEntries(dir: string): { id: string; metadata: Record<string, unknown>; eml: string }[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => {
      const id = name.slice(0, -5)
      return {
        id,
        metadata: JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as Record<string, unknown>,
        eml: readFileSync(path.join(dir, `${id}.eml`), 'latin1'),
      }
    })
}

describe('policy groups and virtual copies', () => {
  let gateway: TestGateway
  let sink: Sink
  let asQuarantine: string
  let brokenQuarantine: string
  let blocker: string

  before(async () => {
    sink = await startSink(await freePort())
    // A path below a regular file cannot be created, even by root.
    blocker = path.join(os.tmpdir(), `mailgw-policy-blocker-${process.pid}`)
    writeFileSync(blocker, 'not a directory\n')
    brokenQuarantine = path.join(blocker, 'quarantine')

    const conf = `
[mailgw.network]
ListenOn=127.0.0.1:%PORT%
Hostname=gw.test.example
Postmaster=admin@corp.example
ProtectedDomains=corp.example
ProtectedDomains=managers.example.com
ProtectedDomains=sales.example
ProtectedDomains=broken.example
Network=trusted 10.10.0.0/16

[mailgw.forward]
ForwardRoute=* [127.0.0.1:${sink.port}]

[mailgw.options]
Xclient=true
EngineModule=engines.js

[mailgw.policy]
SpamRateLimit=standard
CheckSpam=true
BlockMessage=as/spam,av/infected
QuarantineMessage=as/spam
MarkSubject=spam,probable

[mailgw.group:whitelist]
Recipients=*
Senders=network trusted
CheckSpam=false
CheckAV=false

[mailgw.group:managers]
Recipients=*@managers.example.com
CheckSpam=true
BlockMessage=as/spam,as/probable
QuarantineMessage=as/spam,as/probable

[mailgw.group:sales]
Recipients=*@sales.example
MarkSubject=none
CheckAV=false

[mailgw.group:broken]
Recipients=*@broken.example
BlockMessage=none
QuarantineMessage=as/spam
ASQuarantinePath=${brokenQuarantine}
`
    gateway = await startTestGateway({ conf, files: { 'engines.js': ENGINE_MODULE } })
    asQuarantine = path.join(gateway.dir, 'var', 'quarantine', 'as')
  })

  after(async () => {
    await gateway?.stop()
    await sink?.close()
    if (blocker) rmSync(blocker, { force: true })
  })

  it('delivers one copy per group with its own treatment', async () => {
    const result = await sendMail({
      port: gateway.port,
      from: 'alice@outside.example',
      to: ['bob@corp.example', 'dave@sales.example', 'carl@corp.example'],
      message: message('MAYBESPAM two groups'),
    })
    assert.equal(result.final?.code, 250)

    await sink.waitFor(2)
    await delay(500)
    const copies = bySubject(sink, 'two groups')
    assert.equal(copies.length, 2)

    const policyCopy = copies.find((m) => m.to.includes('bob@corp.example'))
    const salesCopy = copies.find((m) => m.to.includes('dave@sales.example'))
    assert.ok(policyCopy, 'the policy copy arrives')
    assert.ok(salesCopy, 'the sales copy arrives')
    assert.deepEqual(policyCopy.to, ['bob@corp.example', 'carl@corp.example'])
    assert.deepEqual(salesCopy.to, ['dave@sales.example'])
    assert.equal(policyCopy.from, 'alice@outside.example')
    assert.equal(salesCopy.from, 'alice@outside.example')

    assert.deepEqual(headerValues(policyCopy.raw, 'Subject'), ['[?? Probable Spam] MAYBESPAM two groups'])
    assert.deepEqual(headerValues(salesCopy.raw, 'Subject'), ['MAYBESPAM two groups'])
    assert.deepEqual(headerValues(policyCopy.raw, 'X-SpamTest-Status'), ['Probable Spam'])
    assert.deepEqual(headerValues(policyCopy.raw, 'X-SpamTest-Group-ID'), ['policy'])
    assert.deepEqual(headerValues(salesCopy.raw, 'X-SpamTest-Group-ID'), ['sales'])
    assert.match(headerValues(policyCopy.raw, 'X-Anti-Virus')[0] ?? '', /^haraka-mailgw \S+, bases: 20261201 #3, check: \d{8} clean$/)
    assert.deepEqual(headerValues(salesCopy.raw, 'X-Anti-Virus'), [], 'CheckAV=false adds no anti-virus header')

    await gateway.waitForOutput(/deliver stage=policy copy=1 group=policy to=bob@corp\.example,carl@corp\.example spam=as\/probable/)
    await gateway.waitForOutput(/deliver stage=policy copy=2 group=sales to=dave@sales\.example spam=as\/probable .*objects=not_checked av_skip="CheckAV=false"/)
  })

  it('blocks managers on probable spam but tags the policy copy', async () => {
    const before = quarantineEntries(asQuarantine).length
    const result = await sendMail({
      port: gateway.port,
      from: 'alice@outside.example',
      to: ['bob@corp.example', 'carol@managers.example.com', 'carl@corp.example'],
      message: message('MAYBESPAM managers'),
    })
    assert.equal(result.final?.code, 250)

    await gateway.waitForOutput(/block stage=policy copy=2 group=managers to=carol@managers\.example\.com spam=as\/probable/)
    await delay(1500)
    const delivered = bySubject(sink, 'managers')
    assert.equal(delivered.length, 1)
    assert.deepEqual(delivered[0].to, ['bob@corp.example', 'carl@corp.example'])
    assert.deepEqual(headerValues(delivered[0].raw, 'Subject'), ['[?? Probable Spam] MAYBESPAM managers'])

    const entries = quarantineEntries(asQuarantine)
    assert.equal(entries.length, before + 1)
    const entry = entries.find((e) => (e.metadata.envelope as { to: string[] }).to.includes('carol@managers.example.com'))
    assert.ok(entry, 'the blocked copy is in the quarantine')
    assert.equal(entry.metadata.group, 'managers')
    assert.deepEqual(entry.metadata.status, ['as/probable'])
    assert.deepEqual(entry.metadata.envelope, { from: 'alice@outside.example', to: ['carol@managers.example.com'] })
    assert.equal(entry.metadata.clientIp, '127.0.0.1')
    assert.match(entry.eml, /^Subject: MAYBESPAM managers$/m, 'the quarantine keeps the original subject')
    assert.match(entry.id, /^[A-Za-z0-9]{8,40}$/)
  })

  it('blocks spam under the policy', async () => {
    const result = await sendMail({ port: gateway.port, from: 'alice@outside.example', to: ['bob@corp.example'], message: message('SPAMWORD policy') })
    assert.equal(result.final?.code, 250)
    await gateway.waitForOutput(/block stage=policy copy=1 group=policy to=bob@corp\.example spam=as\/spam .*block=as\/spam/)
    await delay(1000)
    assert.equal(bySubject(sink, 'SPAMWORD policy').length, 0)
  })

  it('passes whitelisted networks unchecked', async () => {
    const forged = ['X-SpamTest-Status: Trusted', 'X-Anti-Virus: forged, check: clean']
    const result = await sendMail({
      port: gateway.port,
      from: 'relay@partner.example',
      to: ['bob@corp.example'],
      xclientAddr: '10.10.3.4',
      message: message('SPAMWORD VIRUS-MARKER whitelisted', forged, 'VIRUS-MARKER\r\n'),
    })
    assert.equal(result.final?.code, 250)
    const [got] = await waitForSubject(sink, 'whitelisted')
    assert.deepEqual(headerValues(got.raw, 'Subject'), ['SPAMWORD VIRUS-MARKER whitelisted'])
    assert.ok(!/^X-SpamTest-/im.test(headerBlock(got.raw)), 'no X-SpamTest header at all')
    assert.deepEqual(headerValues(got.raw, 'X-Anti-Virus'), [])
    await gateway.waitForOutput(/deliver stage=policy copy=1 group=whitelist to=bob@corp\.example spam=not_checked spam_skip="CheckSpam=false"/)
  })

  it('removes forged verdict headers', async () => {
    const forged = [
      'X-SpamTest-Status: Trusted',
      'X-SpamTest-Method: white ip list',
      'X-SpamTest-Whitelist: yes',
      'x-spamtest-rate: -100',
      'X-Anti-Virus: forged scanner, check: clean',
    ]
    const result = await sendMail({ port: gateway.port, from: 'alice@outside.example', to: ['bob@corp.example'], message: message('forged headers', forged) })
    assert.equal(result.final?.code, 250)
    const [got] = await waitForSubject(sink, 'forged headers')
    assert.deepEqual(headerValues(got.raw, 'X-SpamTest-Status'), ['Not detected'])
    assert.deepEqual(headerValues(got.raw, 'X-SpamTest-Method'), ['none'])
    assert.deepEqual(headerValues(got.raw, 'X-SpamTest-Rate'), ['0'])
    assert.deepEqual(headerValues(got.raw, 'X-SpamTest-Whitelist'), [])
    const av = headerValues(got.raw, 'X-Anti-Virus')
    assert.equal(av.length, 1)
    assert.match(av[0], /^haraka-mailgw /)
  })

  it('answers 4xx when a quarantine write fails', async () => {
    const delivered = sink.messages.length
    const result = await sendMail({
      port: gateway.port,
      from: 'alice@outside.example',
      to: ['dave@sales.example', 'eve@broken.example'],
      message: message('SPAMWORD broken quarantine'),
    })
    assert.equal(result.final?.code, 451)
    assert.equal(result.final?.enhanced, '4.3.0')
    await gateway.waitForOutput(/quarantine write failed/)
    await delay(1500)
    assert.equal(sink.messages.length, delivered, 'no copy is delivered')
    const queueDir = path.join(gateway.dir, 'var', 'queue')
    assert.deepEqual(existsSync(queueDir) ? readdirSync(queueDir).filter((f) => !f.startsWith('.')) : [], [])
  })
})

async function waitForSubject(sink: Sink, marker: string, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = bySubject(sink, marker)
    if (found.length > 0) return found
    if (Date.now() > deadline) throw new Error(`no message with "${marker}" in the Subject within ${timeoutMs} ms`)
    await delay(100)
  }
}
