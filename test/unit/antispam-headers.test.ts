import { test } from 'node:test'
import assert from 'node:assert/strict'

import { parseMessageView } from '../../src/antispam/message-view'
import {
  fromOrToDigits,
  fromOrToNoDomain,
  headerSigns,
  subjectDigitIdOrTimestamp,
  subjectTooLong,
  subjectWhitespaceOrDots,
  toUndisclosed,
} from '../../src/antispam/header-checks'
import { detectScripts } from '../../src/antispam/scripts'
import { parseConfig } from '../../src/config'

function message(headers: string, body = 'Hello.\r\n') {
  return parseMessageView(Buffer.from(`${headers.trim().split('\n').join('\r\n')}\r\n\r\n${body}`))
}

const ordinary = 'From: Ann <ann@example.com>\nTo: Bob <bob@example.org>\nSubject: Lunch on Friday'

function policy(extra = '') {
  const parsed = parseConfig(`[mailgw.network]\nHostname=gw.test\nPostmaster=postmaster@gw.test\nProtectedDomains=*\n[mailgw.policy]\n${extra}\n`, '/tmp/test.conf')
  assert.ok(parsed.config, JSON.stringify(parsed.errors))
  return parsed.config.policy
}

test('undisclosed recipients fires', async () => {
  assert.equal(toUndisclosed(await message('From: a@example.com\nTo: undisclosed-recipients:;\nSubject: x'))?.name, 'SpamHeadersToUndisclosed')
  assert.equal(toUndisclosed(await message('From: a@example.com\nTo: "Undisclosed Recipients" <>\nSubject: x'))?.name, 'SpamHeadersToUndisclosed')
  assert.equal(toUndisclosed(await message(ordinary)), null)
})

test('digits in From or To', async () => {
  assert.ok(fromOrToDigits(await message('From: deals48213@example.com\nTo: bob@example.org\nSubject: x')))
  assert.ok(fromOrToDigits(await message('From: a@example.com\nTo: bob@mail20931.example.org\nSubject: x')))
  assert.equal(fromOrToDigits(await message('From: user1@example.com\nTo: bob@example.org\nSubject: x')), null)
})

test('address without domain', async () => {
  assert.ok(fromOrToNoDomain(await message('From: sales\nTo: bob@example.org\nSubject: x')))
  assert.ok(fromOrToNoDomain(await message('From: a@example.com\nTo: <friend>\nSubject: x')))
  assert.equal(fromOrToNoDomain(await message(ordinary)), null)
})

test('subject too long', async () => {
  assert.ok(subjectTooLong(await message(`From: a@example.com\nTo: b@example.org\nSubject: ${'very '.repeat(30)}long`)))
  assert.equal(subjectTooLong(await message(ordinary)), null)
})

test('subject with spaces or dots', async () => {
  for (const subject of ['Best offer     today', 'Wait for it.....', 'F R E E money', 'V.i.a.g.r.a now']) {
    assert.ok(subjectWhitespaceOrDots(await message(`From: a@example.com\nTo: b@example.org\nSubject: ${subject}`)), subject)
  }
  assert.equal(subjectWhitespaceOrDots(await message('From: a@example.com\nTo: b@example.org\nSubject: Well... see you')), null)
})

test('subject id or timestamp', async () => {
  for (const subject of ['Say goodbye to stains!!!             5805', 'Report 12:45:10', 'Ref 1717171717', '06.07.2015']) {
    assert.ok(subjectDigitIdOrTimestamp(await message(`From: a@example.com\nTo: b@example.org\nSubject: ${subject}`)), subject)
  }
  for (const subject of ['Your order has shipped (#888-4444444-9999999)', 'Processed: reassign 126111 to cdimage', 'Wine release 20020904']) {
    assert.equal(subjectDigitIdOrTimestamp(await message(`From: a@example.com\nTo: b@example.org\nSubject: ${subject}`)), null, subject)
  }
})

test('scripts of decoded text', () => {
  assert.deepEqual(detectScripts('外贸客户开发'), ['Chinese'])
  assert.deepEqual(detectScripts('にゃんこ'), ['Japanese'])
  assert.deepEqual(detectScripts('日本語のメール'), ['Japanese'])
  assert.deepEqual(detectScripts('안녕하세요'), ['Korean'])
  assert.deepEqual(detectScripts('สวัสดีครับ'), ['Thai'])
  assert.deepEqual(detectScripts('Hello, 世'), [])
})

test('script switches on RFC 2047 subjects', async () => {
  const cases: [string, string][] = [
    ['=?UTF-8?Q?=E5=A4=96=E8=B4=B8=E5=AE=A2=E6=88=B7?=', 'SpamHeadersMarkAllChinese'],
    ['=?gb2312?B?zeLDs7/Nu6c=?=', 'SpamHeadersMarkAllChinese'],
    ['=?ks_c_5601-1987?B?vsiz58fPvLy/5A==?=', 'SpamHeadersMarkAllKorean'],
    ['=?UTF-8?B?4Liq4Lin4Lix4Liq4LiU4Li1?=', 'SpamHeadersMarkAllThai'],
    ['=?iso-2022-jp?B?GyRCJWElQyU7ITwlOCRyR1s/LiRHJC0kXiQ7JHMhIxsoQg==?=', 'SpamHeadersMarkAllJapanese'],
    ['=?UTF-8?B?44Gr44KD44KT44GT?=', 'SpamHeadersMarkAllJapanese'],
  ]
  const all = policy('SpamHeadersMarkAllChinese=true\nSpamHeadersMarkAllKorean=true\nSpamHeadersMarkAllThai=true\nSpamHeadersMarkAllJapanese=true')
  for (const [encoded, expected] of cases) {
    const view = await message(`From: a@example.com\nTo: b@example.org\nSubject: ${encoded}`)
    const names = headerSigns(view, all).map((s) => s.name)
    assert.deepEqual(names, [expected], `${encoded} -> ${view.subject}`)
    assert.ok(headerSigns(view, all)[0].decisive)
  }
})

test('script switches off by default', async () => {
  const view = await message('From: a@example.com\nTo: b@example.org\nSubject: =?UTF-8?Q?=E5=A4=96=E8=B4=B8=E5=AE=A2=E6=88=B7?=')
  assert.deepEqual(headerSigns(view, policy()), [])
})

test('header switch turns a check off', async () => {
  const view = await message('From: a@example.com\nTo: undisclosed-recipients:;\nSubject: x')
  assert.deepEqual(headerSigns(view, policy()).map((s) => s.name), ['SpamHeadersToUndisclosed'])
  assert.deepEqual(headerSigns(view, policy('SpamHeadersToUndisclosed=false')), [])
})

test('display name script detection', async () => {
  const view = await message('From: =?UTF-8?B?7ZWc6rWt7Ja0?= <a@example.com>\nTo: b@example.org\nSubject: hello')
  assert.deepEqual(headerSigns(view, policy('SpamHeadersMarkAllKorean=true')).map((s) => s.name), ['SpamHeadersMarkAllKorean'])
})
