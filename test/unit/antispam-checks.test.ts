import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import path from 'node:path'

import { contentSigns, GTUBE, invisibleText, mismatchedLinks } from '../../src/antispam/content-checks'
import { domainsReady } from '../../src/antispam/domains'
import { envelopeSigns } from '../../src/antispam/envelope-checks'
import { formalSign } from '../../src/antispam/formal'
import { linkHosts } from '../../src/antispam/links'
import { parseMessageView } from '../../src/antispam/message-view'
import { parseHop, parseReceived, receivedSigns, relayAddresses } from '../../src/antispam/received'
import { decideStatus, THRESHOLDS } from '../../src/antispam/status'
import { sign } from '../../src/antispam/signs'
import type { MessageContext } from '../../src/pipeline/engines'

const FIXTURES = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'antispam')
const view = (text: string) => parseMessageView(Buffer.from(text.replace(/\n/g, '\r\n')))
const context = (over: Partial<MessageContext> = {}): MessageContext => ({
  transactionId: 't1',
  mailFrom: 'ann@example.com',
  recipients: ['bob@example.org'],
  clientIp: '203.0.113.7',
  clientHost: null,
  helo: 'mx.example.com',
  ...over,
})

test('formal: delivery report', async () => {
  const v = await view('From: MAILER-DAEMON@example.com\nTo: a@example.org\nSubject: Undelivered\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b--\n')
  assert.match(formalSign(v, context())?.detail ?? '', /delivery-status/)
})

test('formal: null sender, auto-reply, mailer-daemon', async () => {
  const plain = await view('From: a@example.com\nTo: b@example.org\nSubject: hi\n\nhello\n')
  assert.ok(formalSign(plain, context({ mailFrom: '' })))
  assert.equal(formalSign(plain, context()), null)
  assert.ok(formalSign(await view('From: a@example.com\nTo: b@example.org\nAuto-Submitted: auto-replied\nSubject: hi\n\nx\n'), context()))
  assert.equal(formalSign(await view('From: a@example.com\nTo: b@example.org\nAuto-Submitted: no\nSubject: hi\n\nx\n'), context()), null)
  assert.ok(formalSign(await view('From: a@example.com\nTo: b@example.org\nSubject: Out of office until Monday\n\nx\n'), context()))
  assert.ok(formalSign(await view('From: Mail System <mailer-daemon@example.com>\nTo: b@example.org\nSubject: failure notice\n\nx\n'), context()))
})

test('formal: list mail is not formal', async () => {
  const v = await view('From: a@example.com\nTo: list@example.org\nList-Id: <list.example.org>\nPrecedence: list\nSubject: [list] hi\n\nx\n')
  assert.equal(formalSign(v, context()), null)
})

test('received: dates and relays', async () => {
  const v = await view(
    [
      'Received: from client.example.net (client.example.net [198.51.100.20]) by mx.example.org; Tue, 25 Apr 2023 02:17:54 +0000',
      'Received: from relay.example.net ([10.1.2.3]) by client.example.net; Tue, 25 Apr 2023 09:17:54 +0000',
      'Received: from forged by nowhere',
      'From: a@example.com',
      'Subject: x',
      '',
      'x',
    ].join('\n'),
  )
  const hops = parseReceived(v)
  assert.equal(hops.length, 3)
  assert.equal(hops[0].ip, '198.51.100.20')
  assert.deepEqual(relayAddresses(hops, '203.0.113.7'), ['198.51.100.20'])
  assert.deepEqual(receivedSigns(hops).map((s) => s.name).sort(), ['ReceivedFutureDate', 'ReceivedNoDate', 'ReceivedOutOfOrder'])
  assert.equal(parseHop('from a ([IPv6:2001:db8::1]) by b; Tue, 25 Apr 2023 02:17:54 +0000').ip, '2001:db8::1')
})

test('received: ordinary chain is quiet', async () => {
  const v = await view(
    'Received: from b ([198.51.100.2]) by c; Tue, 25 Apr 2023 02:17:54 +0000\nReceived: from a ([198.51.100.1]) by b; Tue, 25 Apr 2023 02:17:50 +0000\nSubject: x\n\nx\n',
  )
  assert.deepEqual(receivedSigns(parseReceived(v)), [])
})

test('envelope vs headers', async () => {
  await domainsReady
  const v = await view('From: a@shop.example.com\nTo: carol@example.org\nSubject: x\n\nx\n')
  assert.deepEqual(envelopeSigns(v, context({ mailFrom: 'bounce@other.example.net' })).map((s) => s.name), ['EnvelopeFromMismatch', 'EnvelopeRcptNotInHeaders'])
  assert.deepEqual(envelopeSigns(v, context({ mailFrom: 'bounce@mail.example.com', recipients: ['Carol@example.org'] })), [])
})

test('GTUBE in body and attachment', async () => {
  const body = await view(`From: a@example.com\nSubject: x\n\n${GTUBE}\n`)
  assert.equal(contentSigns(body, Buffer.from('x'))[0].decisive, true)
  const attached = readFileSync(path.join(FIXTURES, 'gtube_b64_oct.eml'))
  const attachedView = await parseMessageView(attached)
  assert.equal(contentSigns(attachedView, attached)[0].name, 'GTUBE')
})

test('invisible text', async () => {
  const split = await view('Content-Type: text/html\n\n<div>fi<span style="FONT-SIZE: 0px">le </span>sh<span style="font-size:0">aring </span></div>\n')
  assert.equal(invisibleText(split)?.name, 'InvisibleText')
  const block = await view(`Content-Type: text/html\n\n<p>Hi</p><div style="display:none">${'cheap pills '.repeat(4)}</div>\n`)
  assert.ok(invisibleText(block))
  assert.equal(invisibleText(await view('Content-Type: text/html\n\n<p>Hello <b>there</b></p>\n')), null)
})

test('mismatched link text', async () => {
  await domainsReady
  const bad = await view('Content-Type: text/html\n\n<a href="http://login.evil.example.net/x">https://www.paypal.com/signin</a>\n')
  assert.match(mismatchedLinks(bad)?.detail ?? '', /paypal\.com leads to example\.net/)
  const good = await view('Content-Type: text/html\n\n<a href="https://click.paypal.com/t?x=1">www.paypal.com</a> <a href="http://a.example/">click here</a>\n')
  assert.equal(mismatchedLinks(good), null)
})

test('link hosts from text and HTML', () => {
  const hosts = linkHosts('see http://Shop.Example.com/x and www.example.org.', '<a href="http://198.51.100.9/p">x</a><img src="https://cdn.example.net/i.png">')
  assert.deepEqual(hosts.map((h) => h.host).sort(), ['198.51.100.9', 'cdn.example.net', 'shop.example.com', 'www.example.org'])
  assert.equal(hosts.find((h) => h.host === '198.51.100.9')?.isIp, true)
})

test('status order and levels', () => {
  const some = [sign('A', 'headers', 3, ''), sign('B', 'content', 3, '')]
  assert.equal(decideStatus(some, 100, null, 'minimum').status, 'as/blacklisted')
  assert.equal(decideStatus(some, 99, null, 'minimum').status, null)
  assert.equal(decideStatus([{ ...sign('GTUBE', 'content', 0, ''), decisive: true }], 0, sign('Formal', 'formal', 0, ''), 'minimum').status, 'as/spam')
  assert.equal(decideStatus(some, 0, sign('Formal', 'formal', 0, ''), 'maximum').status, 'as/formal')
  const statuses = (['minimum', 'standard', 'high', 'maximum'] as const).map((level) => decideStatus(some, 0, null, level).status)
  assert.deepEqual(statuses, [null, 'as/probable', 'as/probable', 'as/spam'])
  for (const level of ['minimum', 'standard', 'high'] as const) assert.ok(THRESHOLDS[level].spam > THRESHOLDS[({ minimum: 'standard', standard: 'high', high: 'maximum' } as const)[level]].spam)
  assert.equal(decideStatus(some, 0, null, 'maximum').method, 'headers')
  assert.equal(decideStatus([], 0, null, 'maximum').method, 'none')
})
