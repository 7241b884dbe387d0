// haraka-plugin-karma as the SpamCheckReputation sign, against the real gateway with its private
// Redis ([mailgw.local] Redis=true) and Karma=true. Karma penalises envelope senders in "spammy"
// TLDs (its shipped list gives .site -8), so a message from such a sender gets the sign. Karma
// itself rejects nothing and does not hold up the replies.

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'

import { startTestDns, type TestDns } from '../helpers/dns'
import { PACKAGE_ROOT, startTestGateway, type TestGateway } from '../helpers/gateway'
import { startSink, type Sink } from '../helpers/sink'
import { freePort, sendMail } from '../helpers/smtp'

const ENGINE = path.join(PACKAGE_ROOT, 'dist', 'src', 'antispam', 'engine-factory.js')
// Haraka counts the documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) as private,
// and karma skips private clients, so the client plays an RFC 6598 shared address instead.
const CLIENT = '100.64.0.20'

function conf(sinkPort: number, dnsPort: number): string {
  return `
[mailgw.network]
ListenOn=127.0.0.1:%PORT%
Hostname=gw.test.example
Postmaster=admin@corp.example
ProtectedDomains=corp.example

[mailgw.resolve]
Nameserver=127.0.0.1:${dnsPort}

[mailgw.timeouts]
DNSNetworkTimeout=1
DNSResolveTimeout=2

[mailgw.forward]
ForwardRoute=* [127.0.0.1:${sinkPort}]

[mailgw.local]
Redis=true

[mailgw.antispam]
Karma=true

[mailgw.options]
Xclient=true
EngineModule=${ENGINE}

[mailgw.policy]
CheckAV=false
CheckSpam=true
BlockMessage=none

[mailgw.group:noreputation]
Recipients=norep@corp.example
SpamCheckReputation=false
`
}

function header(raw: Buffer, name: string): string[] {
  const text = raw.toString('utf8')
  const head = text.slice(0, text.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ')
  const prefix = `${name.toLowerCase()}:`
  return head
    .split('\r\n')
    .filter((l) => l.toLowerCase().startsWith(prefix))
    .map((l) => l.slice(prefix.length).trim())
}

describe('karma as the reputation sign', () => {
  let dns: TestDns
  let sink: Sink
  let gateway: TestGateway

  before(async () => {
    dns = await startTestDns()
    sink = await startSink(await freePort())
    gateway = await startTestGateway({ conf: conf(sink.port, dns.port) })
  })

  after(async () => {
    await gateway?.stop()
    await sink?.close()
    await dns?.close()
  })

  async function send(from: string, to: string[], tag: string) {
    const text = [`From: Ann <${from}>`, `To: ${to.join(', ')}`, 'Subject: Lunch on Friday', `Message-ID: <${tag}@x.example>`, '', `tag ${tag}`, ''].join('\r\n')
    const started = Date.now()
    const result = await sendMail({ port: gateway.port, from, to, message: text, xclientAddr: CLIENT, helo: 'mail.good.example' })
    const elapsed = Date.now() - started
    assert.equal(result.final?.code, 250, JSON.stringify(result))
    const deadline = Date.now() + 20000
    for (;;) {
      const copies = sink.messages.filter((m) => m.raw.includes(tag))
      if (new Set(copies.flatMap((m) => m.to)).size === to.length) return { copies, elapsed }
      if (Date.now() > deadline) throw new Error(`copies of ${tag} not delivered`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  it('karma loads with its Redis', () => {
    const plugins = readFileSync(path.join(gateway.dir, 'run', 'config', 'plugins'), 'utf8').split('\n')
    assert.ok(plugins.indexOf('karma') < plugins.indexOf('mailgw_access'), plugins.join(','))
    assert.ok(plugins.includes('redis'))
    const karmaIni = readFileSync(path.join(gateway.dir, 'run', 'config', 'karma.ini'), 'utf8')
    assert.match(karmaIni, /negative=-1000000/)
    assert.match(karmaIni, /plugins=.*mailgw_policy/)
  })

  it('spammy sender TLD: reputation sign', async () => {
    const { copies, elapsed } = await send('ann@offers.site', ['standard@corp.example', 'norep@corp.example'], `karma1x${process.pid}`)
    const standard = copies.find((c) => c.to.includes('standard@corp.example'))?.raw as Buffer
    const info = header(standard, 'X-SpamTest-Info')
    const line = info.find((l) => l.startsWith('SpamCheckReputation'))
    assert.ok(line, info.join(' | '))
    assert.match(line, /^SpamCheckReputation \+[\d.]+: karma score -\d+(\.\d+)? for 100\.64\.0\.20$/)
    const points = Number(/\+([\d.]+)/.exec(line)?.[1])
    assert.ok(points >= 4, line)

    assert.deepEqual(header(standard, 'X-Haraka-Karma'), [])

    const norep = copies.find((c) => c.to.includes('norep@corp.example'))?.raw as Buffer
    assert.ok(!header(norep, 'X-SpamTest-Info').some((l) => l.startsWith('SpamCheckReputation')))
    // Karma's shipped tarpit would delay each reply after MAIL FROM by 1 s (static delay=1).
    assert.ok(elapsed < 5000, `session took ${elapsed} ms`)
  })

  it('karma records, never rejects', async () => {
    for (let i = 0; i < 3; i++) await send('ann@offers.site', ['standard@corp.example'], `karma2x${i}x${process.pid}`)
    assert.doesNotMatch(gateway.output(), /very bad karma score/)
  })

  it('good sender: no sign', async () => {
    const { copies } = await send('ann@good.example', ['standard@corp.example'], `karma3x${process.pid}`)
    const info = header(copies[0].raw, 'X-SpamTest-Info')
    assert.ok(!info.some((l) => l.startsWith('SpamCheckReputation')), info.join(' | '))
  })
})
