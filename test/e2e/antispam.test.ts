// The built-in anti-spam engine against the real gateway (`mailgw start`), a DNS server on
// loopback (DNSBL zones with ratings, PTR and A records, SPF TXT records, a URI blocklist zone)
// and, when the Debian package is installed, rspamd. Clients play outside addresses with XCLIENT.
// Each recipient below selects a group with its own SpamRateLimit, so one message shows how the
// levels compare. Nothing is blocked: every copy reaches the sink with its X-SpamTest-* headers.

import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'

import { dnsblQueryName } from '../../src/access/ip'
import { GTUBE } from '../../src/antispam/content-checks'
import { startTestDns, type TestDns } from '../helpers/dns'
import { PACKAGE_ROOT, startTestGateway, type TestGateway } from '../helpers/gateway'
import { startTestRspamd, type TestRspamd } from '../helpers/rspamd'
import { startSink, type Sink } from '../helpers/sink'
import { freePort, sendMail } from '../helpers/smtp'

const FIXTURES = path.join(PACKAGE_ROOT, 'test', 'fixtures', 'antispam')
const ENGINE = path.join(PACKAGE_ROOT, 'dist', 'src', 'antispam', 'engine-factory.js')
const LEVELS = ['minimum', 'standard', 'high', 'maximum'] as const

/** A clean outside client: verified reverse name, not listed, allowed by SPF for good.example. */
const CLEAN = '198.51.100.20'

function gatewayConf(sinkPort: number, dnsPort: number, extra = ''): string {
  const groups = LEVELS.map((level) => `[mailgw.group:${level}]\nRecipients=${level}@corp.example\nSpamRateLimit=${level}\n`).join('\n')
  return `
[mailgw.network]
ListenOn=127.0.0.1:%PORT%
Hostname=gw.test.example
Postmaster=admin@corp.example
ProtectedDomains=corp.example

[mailgw.access]
DNSBlackList=bl-a.test 60
DNSBlackList=bl-b.test 40
DNSBlackList=bl-c.test 30

[mailgw.resolve]
Nameserver=127.0.0.1:${dnsPort}

[mailgw.timeouts]
DNSNetworkTimeout=1
DNSResolveTimeout=2

[mailgw.forward]
ForwardRoute=* [127.0.0.1:${sinkPort}]

[mailgw.antispam]
UriBlackList=uri.test
${extra}

[mailgw.options]
Xclient=true
EngineModule=${ENGINE}

[mailgw.policy]
CheckAV=false
CheckSpam=true
SpamRateLimit=standard
BlockMessage=none
MarkSubject=spam,probable,formal,blacklisted

${groups}
[mailgw.group:cjk]
Recipients=cjk@corp.example
SpamHeadersMarkAllChinese=true
SpamHeadersMarkAllKorean=true
SpamHeadersMarkAllThai=true
SpamHeadersMarkAllJapanese=true

[mailgw.group:small]
Recipients=small@corp.example
SpamCheckSizeLimit=1

[mailgw.group:nodns]
Recipients=nodns@corp.example
SpamUseDNS=false
`
}

let sequence = 0

function message(opts: { subject?: string; from?: string; to?: string; headers?: string[]; body?: string; html?: boolean } = {}): { text: string; tag: string } {
  const tag = `m${++sequence}x${process.pid}`
  const text = [
    `From: ${opts.from ?? 'Ann <ann@good.example>'}`,
    `To: ${opts.to ?? 'standard@corp.example'}`,
    `Subject: ${opts.subject ?? 'Lunch on Friday'}`,
    'Date: Fri, 04 Dec 2026 10:00:00 +0000',
    `Message-ID: <${tag}@good.example>`,
    ...(opts.html ? ['MIME-Version: 1.0', 'Content-Type: text/html; charset=utf-8'] : []),
    ...(opts.headers ?? []),
    '',
    opts.body ?? 'Shall we meet at noon?',
    `tag ${tag}`,
    '',
  ].join('\r\n')
  return { text, tag }
}

/** Corpus files may have LF line ends; SMTP needs CRLF. */
function crlf(raw: Buffer): Buffer {
  return Buffer.from(raw.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1')
}

function headerBlock(raw: Buffer): string {
  const text = raw.toString('utf8')
  return text.slice(0, text.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ')
}

function headerValues(raw: Buffer, name: string): string[] {
  const prefix = `${name.toLowerCase()}:`
  return headerBlock(raw)
    .split('\r\n')
    .filter((line) => line.toLowerCase().startsWith(prefix))
    .map((line) => line.slice(prefix.length).trim())
}

interface Delivered {
  status: string
  extended: string
  method: string
  rate: number
  info: string[]
  subject: string
  raw: Buffer
}

describe('anti-spam end to end', () => {
  let dns: TestDns
  let sink: Sink
  let gateway: TestGateway
  let dnsClosed = false

  async function deliver(msg: { text: string | Buffer; tag: string }, opts: { client?: string; from?: string; to?: string[] } = {}): Promise<Map<string, Delivered>> {
    const to = opts.to ?? ['standard@corp.example']
    const result = await sendMail({ port: gateway.port, from: opts.from ?? 'ann@good.example', to, message: msg.text, xclientAddr: opts.client ?? CLEAN, helo: 'mail.good.example' })
    assert.equal(result.final?.code, 250, `message ${msg.tag} not accepted: ${JSON.stringify(result)}`)
    const deadline = Date.now() + 20000
    for (;;) {
      const copies = sink.messages.filter((m) => m.raw.includes(msg.tag))
      const seen = new Set(copies.flatMap((m) => m.to))
      if (to.every((r) => seen.has(r))) {
        const byRecipient = new Map<string, Delivered>()
        for (const copy of copies) {
          const delivered: Delivered = {
            status: headerValues(copy.raw, 'X-SpamTest-Status')[0],
            extended: headerValues(copy.raw, 'X-SpamTest-Status-Extended')[0],
            method: headerValues(copy.raw, 'X-SpamTest-Method')[0],
            rate: Number(headerValues(copy.raw, 'X-SpamTest-Rate')[0]),
            info: headerValues(copy.raw, 'X-SpamTest-Info'),
            subject: headerValues(copy.raw, 'Subject')[0] ?? '',
            raw: copy.raw,
          }
          for (const r of copy.to) byRecipient.set(r, delivered)
        }
        return byRecipient
      }
      if (Date.now() > deadline) throw new Error(`copies of ${msg.tag} for ${to.join(',')} not delivered; got ${[...seen].join(',')}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  const one = async (msg: { text: string | Buffer; tag: string }, opts: { client?: string; from?: string; to?: string } = {}) => {
    const to = opts.to ?? 'standard@corp.example'
    return (await deliver(msg, { ...opts, to: [to] })).get(to) as Delivered
  }
  const signsOf = (d: Delivered) => d.info.slice(1).map((line) => line.split(/[ :]/)[0])

  before(async () => {
    dns = await startTestDns()
    dns.reverse(CLEAN, 'mail.good.example')
    dns.set('good.example', { TXT: [`v=spf1 ip4:${CLEAN} -all`] })
    for (const ip of ['198.51.100.30', '198.51.100.31', '198.51.100.32', '198.51.100.33', '198.51.100.40', '198.51.100.41', '198.51.100.42']) {
      dns.reverse(ip, `host${ip.split('.')[3]}.good.example`)
    }
    // Ratings: a=60, b=40, c=30. .30 is in a+b = 100, .31 in b+c = 70, .32 in a only = 60.
    dns.list('bl-a.test', '198.51.100.30')
    dns.list('bl-b.test', '198.51.100.30')
    dns.list('bl-b.test', '198.51.100.31')
    dns.list('bl-c.test', '198.51.100.31')
    dns.list('bl-a.test', '198.51.100.32')
    // .34 (in c = 30) is seen by no other test, so the query counts are its own.
    dns.reverse('198.51.100.34', 'host34.good.example')
    dns.list('bl-c.test', '198.51.100.34')
    // .50 is a relay in a Received header, listed in a+b.
    dns.list('bl-a.test', '198.51.100.50')
    dns.list('bl-b.test', '198.51.100.50')
    dns.set('badsite.example.uri.test', { A: ['127.0.0.2'] })

    sink = await startSink(await freePort())
    gateway = await startTestGateway({ conf: gatewayConf(sink.port, dns.port) })
  })

  after(async () => {
    await gateway?.stop()
    await sink?.close()
    // The outage test closes the DNS server itself.
    if (!dnsClosed) await dns?.close()
  })

  it('clean mail is not detected', async () => {
    const d = await one(message())
    assert.equal(d.status, 'Not detected')
    assert.equal(d.extended, 'not_detected')
    assert.equal(d.method, 'none')
    assert.equal(d.rate, 0)
    assert.match(d.info[0], /^level=standard score=0 signs=0$/)
    assert.equal(headerValues(d.raw, 'X-SpamTest-Envelope-From')[0], 'ann@good.example')
    assert.equal(headerValues(d.raw, 'X-SpamTest-Group-ID')[0], 'standard')
    assert.match(headerValues(d.raw, 'X-SpamTest-Version')[0], /haraka-mailgw .*mailgw-antispam/)
  })

  it('each header sign fires', async () => {
    const cases: [string, Parameters<typeof message>[0]][] = [
      ['SpamHeadersToUndisclosed', { to: 'undisclosed-recipients:;' }],
      ['SpamHeadersFromOrToDigits', { from: 'Ann <ann48213@good.example>' }],
      ['SpamHeadersFromOrToNoDomain', { to: 'staff' }],
      ['SpamHeadersSubjectTooLong', { subject: 'long '.repeat(30) }],
      ['SpamHeadersSubjectWSOrDots', { subject: 'Great   offer' }],
      ['SpamHeadersSubjectDigitIDOrTimestamp', { subject: 'Your offer      58051' }],
      ['EnvelopeFromMismatch', { from: 'Ann <ann@other.example>' }],
      ['ReceivedNoDate', { headers: ['Received: from x ([198.51.100.60]) by y'] }],
      ['InvisibleText', { html: true, body: '<div>fi<span style="font-size:0">le </span>sh<span style="font-size:0">aring</span></div>' }],
      ['MismatchedLinkText', { html: true, body: '<a href="http://pay.other.example/x">https://www.good.example/login</a>' }],
    ]
    for (const [name, opts] of cases) {
      const d = await one(message(opts))
      assert.ok(signsOf(d).includes(name), `${name} did not fire: ${d.info.join(' | ')}`)
    }
  })

  it('script rules make spam', async () => {
    const subjects: [string, string][] = [
      ['=?UTF-8?Q?=E5=A4=96=E8=B4=B8=E5=AE=A2=E6=88=B7?=', 'SpamHeadersMarkAllChinese'],
      ['=?ks_c_5601-1987?B?vsiz58fPvLy/5A==?=', 'SpamHeadersMarkAllKorean'],
      ['=?UTF-8?B?4Liq4Lin4Lix4Liq4LiU4Li1?=', 'SpamHeadersMarkAllThai'],
      ['=?iso-2022-jp?B?GyRCJWElQyU7ITwlOCRyR1s/LiRHJC0kXiQ7JHMhIxsoQg==?=', 'SpamHeadersMarkAllJapanese'],
    ]
    for (const [subject, name] of subjects) {
      const copies = await deliver(message({ subject, to: 'cjk@corp.example, standard@corp.example' }), { to: ['cjk@corp.example', 'standard@corp.example'] })
      const cjk = copies.get('cjk@corp.example') as Delivered
      assert.equal(cjk.status, 'Spam', name)
      assert.equal(cjk.method, name)
      assert.ok((copies.get('standard@corp.example') as Delivered).status !== 'Spam', `${name} is off in the policy`)
    }
  })

  it('DNS signs fire', async () => {
    const noPtr = await one(message(), { client: '198.51.100.70', from: 'ann@nospf.example' })
    assert.ok(signsOf(noPtr).includes('SpamCheckHostInDNS'), noPtr.info.join(' | '))

    const spfFail = await one(message(), { client: '198.51.100.33' })
    assert.ok(signsOf(spfFail).includes('SpamCheckSPF'), spfFail.info.join(' | '))
    assert.ok(spfFail.info.some((l) => /SPF Fail for good\.example/.test(l)))

    const uri = await one(message({ body: 'Visit http://www.badsite.example/offer today' }))
    assert.ok(signsOf(uri).includes('SpamCheckSURBL'), uri.info.join(' | '))
    assert.ok(uri.info.some((l) => /badsite\.example in uri\.test/.test(l)))

    // A rating of 70 adds 7 points: probable spam at standard (6), spam at high (7).
    const partial = await one(message({ from: 'Ann <ann@nospf.example>' }), { client: '198.51.100.31', from: 'ann@nospf.example' })
    assert.ok(signsOf(partial).includes('SpamCheckDNSBL'))
    assert.equal(partial.status, 'Probable Spam')
    assert.ok(partial.info.some((l) => /SpamCheckDNSBL \+7: client 198\.51\.100\.31 in bl-b\.test,bl-c\.test \(rating 70\)/.test(l)), partial.info.join(' | '))
  })

  it('reuses the connect-time DNSBL results for the client', async () => {
    const client = '198.51.100.34'
    const d = await one(message({ from: 'Ann <ann@nospf.example>' }), { client, from: 'ann@nospf.example' })
    assert.ok(d.info.some((l) => l === `SpamCheckDNSBL +3: client ${client} in bl-c.test (rating 30)`), d.info.join(' | '))
    // One A query per zone (the access stage's at connect) and one TXT for the listing reason.
    for (const zone of ['bl-a.test', 'bl-b.test', 'bl-c.test']) {
      assert.equal(dns.queries(dnsblQueryName(client, zone) as string, 'A'), 1, zone)
    }
    assert.equal(dns.queries(dnsblQueryName(client, 'bl-c.test') as string, 'TXT'), 1)
  })

  it('blacklisted at exactly 100', async () => {
    const listed = await one(message(), { client: '198.51.100.30' })
    assert.equal(listed.status, 'Blacklisted')
    assert.equal(listed.extended, 'blacklisted')
    assert.equal(listed.method, 'DNSBL')
    assert.ok(listed.subject.startsWith('[-- Blacklisted --]'))

    const sixty = await one(message(), { client: '198.51.100.32' })
    assert.notEqual(sixty.status, 'Blacklisted')

    const relay = await one(message({ headers: ['Received: from relay ([198.51.100.50]) by mx.good.example; Fri, 04 Dec 2026 09:59:00 +0000'] }))
    assert.equal(relay.status, 'Blacklisted')
    assert.ok(relay.info.some((l) => /relay 198\.51\.100\.50/.test(l)))
  })

  it('levels order the same message', async () => {
    const msg = message({ to: 'undisclosed-recipients:;', subject: 'Great   offer' })
    const copies = await deliver(msg, { to: LEVELS.map((l) => `${l}@corp.example`) })
    const statuses = LEVELS.map((level) => (copies.get(`${level}@corp.example`) as Delivered).status)
    assert.deepEqual(statuses, ['Not detected', 'Probable Spam', 'Spam', 'Spam'])
    const rates = LEVELS.map((level) => (copies.get(`${level}@corp.example`) as Delivered).rate)
    assert.deepEqual(new Set(rates).size, 1, 'the score does not depend on the level')
  })

  it('records the signs in the transaction results', async () => {
    const msg = message({ to: 'undisclosed-recipients:;', subject: 'Great   offer' })
    const start = gateway.output().length
    await deliver(msg, { to: ['minimum@corp.example', 'high@corp.example'] })
    const line = gateway
      .output()
      .slice(start)
      .split('\n')
      .find((l) => l.includes('[mailgw_antispam]') && l.includes('copy 2'))
    assert.ok(line, 'no mailgw_antispam results line')
    const list = (key: string) => (new RegExp(`${key}:(.*?)(?:, [a-z]+:|$)`).exec(line)?.[1] ?? '').split(', ')
    assert.deepEqual(list('fail').sort(), ['EnvelopeRcptNotInHeaders', 'SpamHeadersSubjectWSOrDots', 'SpamHeadersToUndisclosed'])
    assert.ok(list('pass').includes('SpamHeadersFromOrToDigits'), line)
    assert.ok(list('pass').includes('SpamCheckDNSBL'), line)
    assert.ok(!list('pass').includes('SpamHeadersToUndisclosed'), line)
    // Both copies share one score; the level alone sets the status.
    assert.match(line, /copy \d \(minimum\) not_detected score 7/)
    assert.match(line, /copy \d \(high\) as\/spam score 7/)
  })

  it('GTUBE is spam at every level', async () => {
    const copies = await deliver(message({ body: GTUBE }), { to: LEVELS.map((l) => `${l}@corp.example`) })
    for (const level of LEVELS) {
      const d = copies.get(`${level}@corp.example`) as Delivered
      assert.equal(d.status, 'Spam', level)
      assert.equal(d.method, 'GTUBE', level)
      assert.ok(d.subject.startsWith('[!! SPAM]'), level)
    }
  })

  it('delivery report is formal', async () => {
    const raw = crlf(readFileSync(path.join(FIXTURES, 'lhost-postfix-01.eml')))
    const tag = `formal${process.pid}`
    const text = Buffer.concat([Buffer.from(`X-Test-Tag: ${tag}\r\n`), raw])
    const d = await one({ text, tag }, { from: '' })
    assert.equal(d.status, 'Formal')
    assert.equal(d.extended, 'formal')
    assert.ok(d.subject.startsWith('[--Formal Message--]'))
  })

  it('forged verdict headers are replaced', async () => {
    const d = await one(message({ body: GTUBE, headers: ['X-SpamTest-Status: Not detected', 'X-SpamTest-Rate: 0', 'X-SpamTest-Info: forged'] }))
    assert.deepEqual(headerValues(d.raw, 'X-SpamTest-Status'), ['Spam'])
    assert.deepEqual(headerValues(d.raw, 'X-SpamTest-Rate').length, 1)
    assert.ok(!d.info.includes('forged'))
  })

  it('size limit skips the check', async () => {
    const d = await one(message({ body: `${GTUBE}\r\n${'padding line\r\n'.repeat(200)}` }), { to: 'small@corp.example' })
    assert.ok(!d.subject.startsWith('[!! SPAM]'))
    assert.notEqual(d.status, 'Spam')
    const skippedInHeaders = d.info.some((l) => /^skipped: message of \d+ KB is larger than SpamCheckSizeLimit/.test(l))
    const skippedInLog = /spam_skip=/.test(gateway.output())
    assert.ok(skippedInHeaders || skippedInLog, d.info.join(' | '))
  })

  it('ham corpus stays quiet', async () => {
    const quietSigns = /^(?:SpamHeaders|SpamCheck|Received|InvisibleText|MismatchedLinkText|GTUBE|SpamPhrases|SubjectShouting)/
    for (const name of readdirSync(path.join(FIXTURES, 'ham')).sort()) {
      const raw = crlf(readFileSync(path.join(FIXTURES, 'ham', name)))
      const tag = `ham${process.pid}${name.replace(/\W/g, '')}`
      const d = await one({ text: Buffer.concat([Buffer.from(`X-Test-Tag: ${tag}\r\n`), raw]), tag })
      assert.equal(d.status, 'Not detected', `${name}: ${d.info.join(' | ')}`)
      assert.deepEqual(signsOf(d).filter((s) => quietSigns.test(s)), [], name)
    }
  })

  it('DNS outage degrades to fewer signs', async () => {
    await dns.close()
    dnsClosed = true
    const d = await one(message(), { client: '198.51.100.90' })
    assert.equal(d.status, 'Not detected')
    assert.ok(d.info.some((l) => l.startsWith('skipped SpamCheckDNSBL')), d.info.join(' | '))
    const gtube = await one(message({ body: GTUBE }), { client: '198.51.100.91' })
    assert.equal(gtube.status, 'Spam')
  })
})

describe('anti-spam with rspamd', () => {
  let dns: TestDns
  let sink: Sink
  let rspamd: TestRspamd | null = null
  let gateway: TestGateway | null = null

  before(async () => {
    dns = await startTestDns()
    dns.reverse(CLEAN, 'mail.good.example')
    rspamd = await startTestRspamd(`127.0.0.1:${dns.port}`, 180000)
    if (!rspamd) return
    sink = await startSink(await freePort())
    gateway = await startTestGateway({ conf: gatewayConf(sink.port, dns.port, `SpamEngine=rspamd\nRspamdUrl=${rspamd.url}`) })
  })

  after(async () => {
    await gateway?.stop()
    await sink?.close()
    await rspamd?.stop()
    await dns?.close()
  })

  it('rspamd scores become signs', async (t) => {
    if (!gateway) return t.skip('rspamd is not installed (Debian package rspamd)')
    const spam = crlf(readFileSync(path.join(FIXTURES, 'zerofont.eml')))
    const gtube = message({ body: GTUBE })
    for (const [text, tag] of [[Buffer.concat([Buffer.from('X-Test-Tag: rsp1\r\n'), spam]), 'rsp1'], [gtube.text, gtube.tag]] as const) {
      const result = await sendMail({ port: gateway.port, from: 'ann@good.example', to: ['standard@corp.example'], message: text, xclientAddr: CLEAN })
      assert.equal(result.final?.code, 250)
      await sink.waitFor(tag === 'rsp1' ? 1 : 2, 30000)
    }
    const [first, second] = sink.messages
    const info = headerValues(first.raw, 'X-SpamTest-Info')
    assert.ok(info.some((l) => /^rspamd \+[\d.]+: score [\d.]+: /.test(l)), info.join(' | '))
    assert.match(headerValues(first.raw, 'X-SpamTest-Version')[0], /mailgw-antispam\+rspamd/)
    assert.equal(headerValues(second.raw, 'X-SpamTest-Status')[0], 'Spam')
    assert.equal(headerValues(second.raw, 'X-SpamTest-Method')[0], 'GTUBE')
  })
})
