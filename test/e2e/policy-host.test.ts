// Senders=host MASK selects a group by the client's forward-confirmed reverse name only.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startTestDns, type TestDns } from '../helpers/dns'
import { startTestGateway, type TestGateway } from '../helpers/gateway'
import { startSink, type Sink } from '../helpers/sink'
import { freePort, sendMail } from '../helpers/smtp'

describe('group by client host name', () => {
  let dns: TestDns
  let sink: Sink
  let gateway: TestGateway

  before(async () => {
    dns = await startTestDns()
    dns.reverse('198.18.0.50', 'mx.partner.example')
    // A PTR record that claims the partner's name without the matching A record.
    dns.reverse('198.18.0.51', 'mx.partner.example', { forward: false })
    sink = await startSink(await freePort())
    gateway = await startTestGateway({
      conf: `
[mailgw.network]
ListenOn=127.0.0.1:%PORT%
Hostname=gw.test.example
Postmaster=admin@corp.example
ProtectedDomains=corp.example

[mailgw.resolve]
Nameserver=127.0.0.1:${dns.port}

[mailgw.forward]
ForwardRoute=* [127.0.0.1:${sink.port}]

[mailgw.options]
Xclient=true

[mailgw.policy]
CheckAV=false
CheckSpam=false

[mailgw.group:partners]
Senders=host *.partner.example
`,
    })
  })

  after(async () => {
    await gateway?.stop()
    await sink?.close()
    await dns?.close()
  })

  const decisionLines = () => gateway.output().split('\n').filter((l) => l.includes('deliver stage=policy'))

  async function groupFor(clientIp: string, subject: string): Promise<string> {
    const before = decisionLines().length
    const result = await sendMail({
      port: gateway.port,
      from: 'someone@partner.example',
      to: ['staff@corp.example'],
      xclientAddr: clientIp,
      message: `From: someone@partner.example\r\nTo: staff@corp.example\r\nSubject: ${subject}\r\n\r\nbody\r\n`,
    })
    assert.equal(result.final?.code, 250, result.final?.text)

    const deadline = Date.now() + 10000
    while (decisionLines().length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    const line = decisionLines()[before]
    assert.ok(line, `no decision line for ${subject}`)
    return /group=(\S+)/.exec(line)![1]
  }

  it('confirmed name selects the group', async () => {
    assert.equal(await groupFor('198.18.0.50', 'confirmed'), 'partners')
  })

  it('unconfirmed PTR falls to the policy', async () => {
    assert.equal(await groupFor('198.18.0.51', 'spoofed'), 'policy')
  })
})
