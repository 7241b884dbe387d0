// Look-alike spellings of a protected domain must not slip past the rules written for it.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startTestGateway, type TestGateway } from '../helpers/gateway'
import { startSink, type Sink } from '../helpers/sink'
import { freePort, SmtpClient } from '../helpers/smtp'

describe('recipient spelling', () => {
  let gateway: TestGateway
  let sink: Sink

  before(async () => {
    sink = await startSink(await freePort())
    gateway = await startTestGateway({
      conf: `
[mailgw.network]
ListenOn=127.0.0.1:%PORT%
Hostname=gw.test.example
Postmaster=admin@corp.example
ProtectedDomains=corp.example

[mailgw.access]
RelayRule=deny from any to ceo@corp.example

[mailgw.forward]
ForwardRoute=* [127.0.0.1:${sink.port}]

[mailgw.options]
Xclient=true

[mailgw.policy]
CheckAV=false
CheckSpam=false
`,
    })
  })

  after(async () => {
    await gateway?.stop()
    await sink?.close()
  })

  async function rcpt(to: string, mailParams = '') {
    const { client } = await SmtpClient.connect(gateway.port)
    try {
      await client.command('EHLO client.test')
      await client.command('XCLIENT ADDR=203.0.113.90')
      await client.command('EHLO client.test')
      const mail = await client.command(`MAIL FROM:<a@outside.example>${mailParams}`)
      assert.equal(mail.code, 250, mail.text)
      return await client.command(`RCPT TO:<${to}>`)
    } finally {
      client.close()
    }
  }

  it('denies the plain spelling by rule', async () => {
    const r = await rcpt('ceo@corp.example')
    assert.equal(r.code, 550)
    assert.equal(r.enhanced, '5.7.1')
  })

  for (const spelling of ['ceo@ｃｏｒｐ.example', 'ceo@corp。example', 'ceo@corp．example']) {
    it(`rejects ${spelling} with SMTPUTF8`, async () => {
      const r = await rcpt(spelling, ' SMTPUTF8')
      assert.equal(r.code, 553, r.text)
      assert.equal(r.enhanced, '5.1.3')
    })

    it(`rejects ${spelling} without SMTPUTF8`, async () => {
      const r = await rcpt(spelling)
      assert.equal(r.code, 553, r.text)
      assert.equal(r.enhanced, '5.6.7')
    })
  }

  it('accepts other recipients in any case', async () => {
    const r = await rcpt('Staff@CORP.example')
    assert.equal(r.code, 250, r.text)
  })
})
