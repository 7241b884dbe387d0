import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { formatConfigError, parseConfig, type MailgwConfig, type SpamStatus } from '../../src/config'
import { GroupMatcher } from '../../src/groups/match'
import { MessageAnalysis } from '../../src/pipeline/analysis'
import { processCopy } from '../../src/pipeline/copy'
import { copyDecisionLine } from '../../src/pipeline/decision-line'
import type { AntiSpamEngine, AntiVirusEngine, EngineSet, MessageContext } from '../../src/pipeline/engines'
import { joinContent } from '../../src/message/content'
import { editHeaders, firstHeaderValue } from '../../src/pipeline/rewrite'
import { decodeSubject, labelSubject } from '../../src/pipeline/subject'
import { isVerdictHeader } from '../../src/pipeline/verdict-headers'

function config(body: string): MailgwConfig {
  const text = `[mailgw.network]\nHostname=gw.example.com\nPostmaster=pm@example.com\n[mailgw.policy]\n${body}`
  const result = parseConfig(text, '/srv/mailgw/config/mailgw.conf')
  assert.deepEqual(result.errors.map(formatConfigError), [])
  assert.ok(result.config)
  return result.config
}

/** Returns an anti-spam double with a fixed status that counts its calls. */
function spamEngine(status: SpamStatus | null): AntiSpamEngine & { calls: number } {
  return {
    name: 'double-spam',
    version: '1',
    settingsKeys: ['SpamRateLimit'],
    calls: 0,
    async check() {
      this.calls++
      return { status, rate: status ? 80 : 0, method: status ? 'double' : 'none', info: ['line one', 'line\r\ntwo'] }
    },
  }
}

/** Returns an anti-virus double that reports objects containing INFECTED as av/infected. */
function avEngine(): AntiVirusEngine & { scanned: string[] } {
  return {
    name: 'double-av',
    version: '1',
    settingsKeys: [],
    scanned: [],
    async bases() {
      return { date: new Date('2026-11-30T00:00:00Z'), signatures: 42 }
    },
    async scan(object) {
      this.scanned.push(object.id)
      return object.decoded.includes('INFECTED') ? { status: 'av/infected', detail: 'Double.Sig' } : { status: 'av/clean' }
    },
  }
}

const CONTEXT: MessageContext = {
  transactionId: 'TXN.1',
  mailFrom: 'alice@outside.example',
  recipients: ['bob@corp.example', 'boss@managers.example.com'],
  clientIp: '203.0.113.9',
  clientHost: null,
  helo: 'client.example',
}

const MULTIPART = [
  'From: alice@outside.example',
  'Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= from Alice',
  'X-SpamTest-Status: Not detected',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b1"',
  '',
  '--b1',
  'Content-Type: text/plain',
  '',
  'hello',
  '--b1',
  'Content-Type: application/octet-stream; name="a.exe"',
  'Content-Disposition: attachment; filename="a.exe"',
  '',
  'INFECTED payload',
  '--b1--',
  '',
].join('\r\n')

function analysis(raw: string, engines: Partial<EngineSet>): MessageAnalysis {
  return new MessageAnalysis(Buffer.from(raw), CONTEXT, { antispam: null, antivirus: null, ...engines })
}

describe('copy pipeline', () => {
  it('shares one spam check between groups', async () => {
    const cfg = config('MarkSubject=probable\nBlockMessage=none\n[mailgw.group:managers]\nRecipients=*@managers.example.com\nBlockMessage=as/probable')
    const engine = spamEngine('as/probable')
    const shared = analysis('Subject: offer\r\n\r\nbody\r\n', { antispam: engine })
    const matcher = new GroupMatcher(cfg)
    const plans = matcher.partition({ mailFrom: CONTEXT.mailFrom, clientIp: CONTEXT.clientIp, clientHost: null }, CONTEXT.recipients, (r) => r)

    const outcomes = await Promise.all(plans.map((p, i) => processCopy(shared, p.choice, p.recipients, i + 1, { product: 'haraka-mailgw 0.0.0' })))
    assert.equal(engine.calls, 1)
    assert.equal(outcomes[0].deliver, true)
    assert.equal(outcomes[1].deliver, false)
    assert.match(firstHeaderValue(joinContent(outcomes[0].content), 'subject') ?? '', /^\[\?\? Probable Spam\] offer$/)
    assert.equal(firstHeaderValue(joinContent(outcomes[1].content), 'subject'), 'offer', 'a blocked copy keeps the original')
  })

  it('skips anti-virus when the spam status blocks', async () => {
    const cfg = config('BlockMessage=as/spam')
    const av = avEngine()
    const outcome = await processCopy(analysis(MULTIPART, { antispam: spamEngine('as/spam'), antivirus: av }), new GroupMatcher(cfg).groupOf({ mailFrom: '', clientIp: '', clientHost: null }, 'x@y'), ['x@y'], 1, { product: 'p' })
    assert.equal(outcome.deliver, false)
    assert.equal(outcome.objects, null)
    assert.equal(outcome.avSkipped, 'blocked by anti-spam status')
    assert.deepEqual(av.scanned, [])
  })

  it('scans each object once and blocks infected', async () => {
    const cfg = config('BlockMessage=av/infected')
    const av = avEngine()
    const shared = analysis(MULTIPART, { antivirus: av })
    const choice = new GroupMatcher(cfg).groupOf({ mailFrom: '', clientIp: '', clientHost: null }, 'x@y')
    const first = await processCopy(shared, choice, ['x@y'], 1, { product: 'p' })
    await processCopy(shared, choice, ['z@y'], 2, { product: 'p' })
    assert.equal(av.scanned.length, 2, 'two objects, scanned once for both copies')
    assert.deepEqual(first.objects?.map((o) => [o.id, o.status, o.action]), [
      ['1', 'av/clean', 'pass'],
      ['2', 'av/infected', 'remove'],
    ])
    assert.equal(first.deliver, false)
    assert.match(copyDecisionLine('TXN.1', first), /^TXN\.1 block stage=policy copy=1 group=policy to=x@y spam=not_checked .*objects=1:av\/clean,2:av\/infected .*block=av\/infected$/)
  })

  it('filters by name without scanning', async () => {
    const cfg = config('BlockMessage=none\nIncludeByName=*.exe\nActionFiltered=pass')
    const av = avEngine()
    const choice = new GroupMatcher(cfg).groupOf({ mailFrom: '', clientIp: '', clientHost: null }, 'x@y')
    const outcome = await processCopy(analysis(MULTIPART, { antivirus: av }), choice, ['x@y'], 1, { product: 'haraka-mailgw 1.2.3', now: () => new Date('2026-12-04T12:00:00Z') })
    assert.deepEqual(outcome.objects?.map((o) => o.status), ['av/clean', 'av/filtered'])
    assert.deepEqual(av.scanned, ['1'])
    assert.equal(firstHeaderValue(joinContent(outcome.content), 'x-anti-virus'), 'haraka-mailgw 1.2.3, bases: 20261130 #42, check: 20261204 filtered')
  })

  it('refuses object actions without an editor', async () => {
    const cfg = config('BlockMessage=none\nActionInfected=remove')
    const choice = new GroupMatcher(cfg).groupOf({ mailFrom: '', clientIp: '', clientHost: null }, 'x@y')
    await assert.rejects(processCopy(analysis(MULTIPART, { antivirus: avEngine() }), choice, ['x@y'], 1, { product: 'p' }), /remove 2 \(av\/infected\) cannot be applied/)
  })

  it('writes spam headers and drops forged ones', async () => {
    const cfg = config('MarkSubject=spam\nBlockMessage=none')
    const choice = new GroupMatcher(cfg).groupOf({ mailFrom: '', clientIp: '', clientHost: null }, 'x@y')
    const outcome = await processCopy(analysis(MULTIPART, { antispam: spamEngine('as/spam') }), choice, ['x@y'], 1, { product: 'haraka-mailgw 1.2.3' })
    const text = joinContent(outcome.content).toString('utf8')
    const headers = text.slice(0, text.indexOf('\r\n\r\n'))
    assert.doesNotMatch(headers, /Not detected/)
    assert.match(headers, /^X-SpamTest-Status: Spam$/m)
    assert.match(headers, /^X-SpamTest-Status-Extended: spam$/m)
    assert.match(headers, /^X-SpamTest-Rate: 80$/m)
    assert.match(headers, /^X-SpamTest-Info: line one$/m)
    assert.match(headers, /^X-SpamTest-Info: line two$/m)
    assert.match(headers, /^X-SpamTest-Envelope-From: alice@outside\.example$/m)
    assert.match(headers, /^X-SpamTest-Group-ID: policy$/m)
    assert.match(headers, /^X-SpamTest-Version: haraka-mailgw 1\.2\.3, double-spam 1$/m)
    assert.equal(decodeSubject(firstHeaderValue(joinContent(outcome.content), 'subject') ?? ''), '[!! SPAM] Grüße from Alice')
    assert.equal(text.slice(text.indexOf('\r\n\r\n')), MULTIPART.slice(MULTIPART.indexOf('\r\n\r\n')), 'the body is unchanged')
  })
})

describe('subject label', () => {
  it('prefixes a plain subject', () => {
    assert.equal(labelSubject('Meeting', '[!! SPAM]'), '[!! SPAM] Meeting')
  })

  it('keeps encoded words valid', () => {
    const value = labelSubject('=?UTF-8?B?R3LDvMOfZQ==?=', '[!! SPAM]')
    assert.equal(value, '[!! SPAM] =?UTF-8?B?R3LDvMOfZQ==?=')
    assert.equal(decodeSubject(value ?? ''), '[!! SPAM] Grüße')
  })

  it('encodes raw 8-bit subjects', () => {
    const value = labelSubject('Grüße', '[!! SPAM]') ?? ''
    assert.match(value, /^[\x20-\x7e]+$/)
    assert.equal(decodeSubject(value), '[!! SPAM] Grüße')
  })

  it('encodes a non-ASCII label', () => {
    const value = labelSubject('Hello', '[СПАМ]') ?? ''
    assert.match(value, /^[\x20-\x7e]+$/)
    assert.equal(decodeSubject(value), '[СПАМ] Hello')
  })

  it('does not label twice', () => {
    assert.equal(labelSubject('[!! SPAM] Meeting', '[!! SPAM]'), null)
    assert.equal(labelSubject('=?UTF-8?Q?[!!_SPAM]_Gr=C3=BC=C3=9Fe?=', '[!! SPAM]'), null)
  })

  it('labels a missing subject', () => {
    assert.equal(labelSubject(null, '[!! SPAM]'), '[!! SPAM]')
  })
})

describe('header edits', () => {
  it('adds a subject when there is none', () => {
    const out = editHeaders(Buffer.from('From: a@b\r\n\r\nbody\r\n'), { subject: 'New' })
    assert.equal(out.toString(), 'From: a@b\r\nSubject: New\r\n\r\nbody\r\n')
  })

  it('removes folded verdict headers', () => {
    const raw = 'X-Anti-Virus: forged,\r\n  check: clean\r\nFrom: a@b\r\nx-spamtest-rate: 0\r\n\r\nX-SpamTest-Status: body text\r\n'
    const out = editHeaders(Buffer.from(raw), { remove: isVerdictHeader })
    assert.equal(out.toString(), 'From: a@b\r\n\r\nX-SpamTest-Status: body text\r\n')
  })

  it('folds long added headers', () => {
    const out = editHeaders(Buffer.from('From: a@b\r\n\r\n'), { append: [{ name: 'X-SpamTest-Info', value: 'word '.repeat(30).trim() }] })
    for (const line of out.toString().split('\r\n')) assert.ok(line.length <= 78, `line too long: ${line}`)
  })
})
