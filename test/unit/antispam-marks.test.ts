import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BuiltinAntiSpamEngine } from '../../src/antispam/engine'
import { parseConfig, type PolicySettings } from '../../src/config'
import { Resolver } from '../../src/dns/resolver'
import type { MessageContext } from '../../src/pipeline/engines'

function policy(lines: string): PolicySettings {
  const text = `[mailgw.network]\nHostname=gw.example.com\nPostmaster=pm@example.com\nProtectedDomains=example.com\n[mailgw.policy]\nSpamUseDNS=false\n${lines}\n`
  const { config, errors } = parseConfig(text, '/tmp/marks-test.conf')
  assert.deepEqual(errors, [])
  return config!.policy
}

// DNS checks are off (SpamUseDNS=false), so the resolver is never asked.
const engine = new BuiltinAntiSpamEngine({
  dns: { resolver: new Resolver({ servers: [], networkTimeout: 1, resolveTimeout: 1, cacheMaxTtl: 0 }), dnsblZones: [], uriZones: [], spfTimeoutMs: 1000 },
  rspamd: null,
})

const context: MessageContext = {
  transactionId: 'T1',
  mailFrom: 'sender@outside.example',
  recipients: ['user@example.com'],
  clientIp: '192.0.2.1',
  clientHost: null,
  helo: 'mx.outside.example',
}

function message(subject: string, body: string, from = 'Sender <sender@outside.example>'): Buffer {
  return Buffer.from(`From: ${from}\r\nTo: user@example.com\r\nSubject: ${subject}\r\nDate: Fri, 04 Dec 2026 10:00:00 +0000\r\nMessage-ID: <m1@outside.example>\r\n\r\n${body}\r\n`)
}

describe('spam marks', () => {
  it('SpamMarkObscene marks obscene words', async () => {
    const raw = message('hello', 'see the nude pictures')
    const on = await engine.check(raw, context, policy('SpamMarkObscene=true'))
    assert.ok(on.info.some((l) => l.startsWith('mark: Obscene (nude')), on.info.join('\n'))
    const off = await engine.check(raw, context, policy('SpamMarkObscene=false'))
    assert.ok(!off.info.some((l) => l.startsWith('mark: Obscene')))
  })

  it('SpamMarkProbable marks probable spam only', async () => {
    // Two header signs (+3 each) give probable spam at the standard level.
    const raw = message('test Fri, 04 Dec 2026 21:50:39 +0000', 'plain words', 'root@localhost')
    const on = await engine.check(raw, { ...context, mailFrom: 'root@localhost' }, policy('SpamMarkProbable=true'))
    assert.equal(on.status, 'as/probable', on.info.join('\n'))
    assert.ok(on.info.includes('mark: ProbableSpam'))

    const off = await engine.check(raw, { ...context, mailFrom: 'root@localhost' }, policy('SpamMarkProbable=false'))
    assert.equal(off.status, 'as/probable')
    assert.ok(!off.info.includes('mark: ProbableSpam'))

    const clean = await engine.check(message('hello', 'plain words'), context, policy('SpamMarkProbable=true'))
    assert.equal(clean.status, null)
    assert.ok(!clean.info.includes('mark: ProbableSpam'))
  })
})
