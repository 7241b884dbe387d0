// Access rules against the real gateway: outside clients are played with XCLIENT from loopback,
// and a DNS server on loopback answers the DNSBL, PTR, A and MX queries of the test zones.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startTestDns, type TestDns } from '../helpers/dns'
import { startTestGateway, type TestGateway } from '../helpers/gateway'
import { startSink, type Sink } from '../helpers/sink'
import { freePort, SmtpClient, type Reply } from '../helpers/smtp'

interface Session {
  client: SmtpClient
  xclient: Reply
  close(): void
}

/** Opens a session that XCLIENT moves to `addr` (IPv6 as written, e.g. 2001:db8::1). */
async function openAs(port: number, addr: string): Promise<Session> {
  const { client, greeting } = await SmtpClient.connect(port)
  assert.equal(greeting.code, 220, `loopback greeting: ${greeting.text}`)
  const xclient = await client.command(`XCLIENT ADDR=${addr.includes(':') ? `IPV6:${addr}` : addr}`)
  return { client, xclient, close: () => client.close() }
}

/** Opens a session as `addr`, sends EHLO with its address literal (same_ip) and expects both to succeed. */
async function ready(port: number, addr: string, helo = addr.includes(':') ? `[IPv6:${addr}]` : `[${addr}]`): Promise<SmtpClient> {
  const s = await openAs(port, addr)
  assert.equal(s.xclient.code, 220, `XCLIENT as ${addr}: ${s.xclient.code} ${s.xclient.text}`)
  const ehlo = await s.client.command(`EHLO ${helo}`)
  assert.equal(ehlo.code, 250, `EHLO as ${addr}: ${ehlo.text}`)
  return s.client
}

function expectReply(reply: Reply, code: number, enhanced: string | null, what: string): void {
  assert.equal(reply.code, code, `${what}: got ${reply.code} ${reply.text}`)
  assert.equal(reply.enhanced, enhanced, `${what}: enhanced status of "${reply.text}"`)
}

function message(subject: string): string {
  return ['From: a@mx.test', 'To: b@corp.example', `Subject: ${subject}`, `Message-ID: <${subject.replace(/\W/g, '')}@mx.test>`, '', 'body', ''].join('\r\n')
}

describe('access rules end to end', () => {
  let dns: TestDns
  let sink: Sink
  let gateway: TestGateway

  before(async () => {
    dns = await startTestDns()
    sink = await startSink(await freePort())

    // DNSBL zones: 192.0.2.50 is in both half zones (50 + 50 = 100), 192.0.2.51 in one only,
    // 192.0.2.52 in one half zone and in a zone that never answers.
    dns.list('bl-a.test', '192.0.2.50')
    dns.list('bl-b.test', '192.0.2.50')
    dns.list('bl-a.test', '192.0.2.51')
    dns.list('bl-a.test', '192.0.2.52')
    dns.list('bl-slow.test', '192.0.2.52', { delayMs: Infinity })
    // Reverse names: a confirmed dial-up name, and one whose forward lookup does not confirm it.
    dns.reverse('192.0.2.30', 'h30.dialup.test')
    dns.reverse('192.0.2.31', 'h31.dialup.test', { forward: false })
    // HELO and sender domains.
    dns.set('good.test', { A: ['192.0.2.10'] })
    dns.set('other.test', { A: ['192.0.2.99'] })
    dns.set('mx.test', { MX: [{ exchange: 'mail.mx.test', priority: 10 }], A: ['192.0.2.80'] })
    dns.set('aonly.test', { A: ['192.0.2.81'] })
    dns.set('silent.test', { A: ['192.0.2.82'], delayMs: Infinity })

    const conf = `
[mailgw.network]
ListenOn=127.0.0.1:%PORT%
Hostname=gw.test.example
Postmaster=admin@corp.example
ProtectedDomains=corp.example
Network=Office 10.10.0.0/16, 2001:db8:10::/48
Network=Partners 198.51.100.0/24

[mailgw.access]
ConnectRule=accept for ip 127.0.0.1
ConnectRule=deny for ip 10.10.138.99
ConnectRule=accept for network Office
ConnectRule=deny for ip file:blocked-clients
ConnectRule=tempfail for ip 203.0.113.77/255.255.255.255
ConnectRule=deny for host *.dialup.test
ConnectRule=deny from 192.0.2.40 to ceo@corp.example
ConnectRule=deny for in_dnsbl
HeloRule=accept for same_ip
HeloRule=deny for no_ip
HeloRule=tempfail for diff_ip
MailfromRule=accept for has_mx
MailfromRule=deny for no_ip
MailfromRule=tempfail for no_mx
RelayRule=allow from 192.168.0.0/16 to *
RelayRule=deny from any to blocked@corp.example
RelayRule=allow from network Partners to *@partner.example
RelayRule=tempfail from any to *@busy.example
RelayRule=allow from any to file:relay-recipients
DNSBlackList=bl-a.test 50
DNSBlackList=bl-b.test 50
DNSBlackList=bl-slow.test 60

[mailgw.forward]
ForwardRoute=* [127.0.0.1:${sink.port}]

[mailgw.timeouts]
DNSNetworkTimeout=1
DNSResolveTimeout=2

[mailgw.resolve]
Nameserver=127.0.0.1:${dns.port}

[mailgw.options]
Xclient=true

[mailgw.policy]
CheckAV=false
CheckSpam=false
`
    gateway = await startTestGateway({
      conf,
      files: {
        'blocked-clients': '# clients refused at connect\n203.0.113.66\n2001:db8:bad::/48\n',
        'relay-recipients': '*@branch.example\n',
      },
    })
  })

  after(async () => {
    await gateway?.stop()
    await sink?.close()
    await dns?.close()
  })

  describe('ConnectRule', () => {
    it('accepts a client no rule names', async () => {
      const s = await openAs(gateway.port, '192.0.2.10')
      s.close()
      expectReply(s.xclient, 220, null, 'greeting')
    })

    it('denies the KMG example address before its network', async () => {
      const s = await openAs(gateway.port, '10.10.138.99')
      expectReply(s.xclient, 554, '5.7.1', 'XCLIENT as 10.10.138.99')
      const ehlo = await s.client.command('EHLO client.test')
      s.close()
      expectReply(ehlo, 554, '5.7.1', 'every later command')
      await gateway.waitForOutput(/reject stage=connect rule=ConnectRule@mailgw\.conf:\d+ client=10\.10\.138\.99/)
    })

    it('accepts the rest of a named network', async () => {
      const s = await openAs(gateway.port, '10.10.1.1')
      s.close()
      expectReply(s.xclient, 220, null, 'Office client')
    })

    it('denies clients from a file: list, IPv4 and IPv6', async () => {
      for (const addr of ['203.0.113.66', '2001:db8:bad::5']) {
        const s = await openAs(gateway.port, addr)
        s.close()
        expectReply(s.xclient, 554, '5.7.1', addr)
      }
      await gateway.waitForOutput(/reject stage=connect rule=ConnectRule@mailgw\.conf:\d+ client=2001:db8:bad::5/)
    })

    it('tempfails with 421 and closes', async () => {
      const s = await openAs(gateway.port, '203.0.113.77')
      expectReply(s.xclient, 421, '4.7.1', 'tempfail rule')
      const after = await s.client.command('NOOP', 5000)
      s.close()
      assert.equal(after.code, 0, 'connection closed after 421')
    })

    it('denies a verified reverse name only', async () => {
      const verified = await openAs(gateway.port, '192.0.2.30')
      verified.close()
      expectReply(verified.xclient, 554, '5.7.1', 'h30.dialup.test')
      const unverified = await openAs(gateway.port, '192.0.2.31')
      unverified.close()
      expectReply(unverified.xclient, 220, null, 'unconfirmed h31.dialup.test')
    })

    it('applies a rule with recipients at RCPT', async () => {
      const client = await ready(gateway.port, '192.0.2.40')
      await client.command('MAIL FROM:<a@mx.test>')
      const bob = await client.command('RCPT TO:<bob@corp.example>')
      const ceo = await client.command('RCPT TO:<ceo@corp.example>')
      client.close()
      expectReply(bob, 250, null, 'other recipient')
      expectReply(ceo, 550, '5.7.1', 'recipient named by the ConnectRule')
    })
  })

  describe('in_dnsbl', () => {
    it('holds at exactly 100', async () => {
      const s = await openAs(gateway.port, '192.0.2.50')
      s.close()
      expectReply(s.xclient, 554, '5.7.1', 'listed in both half zones')
      await gateway.waitForOutput(/reject stage=connect rule=ConnectRule@mailgw\.conf:\d+ client=192\.0\.2\.50 .*dnsbl_score=100/)
    })

    it('does not hold below 100', async () => {
      const s = await openAs(gateway.port, '192.0.2.51')
      s.close()
      expectReply(s.xclient, 220, null, 'listed in one half zone')
    })

    it('ignores a zone that times out', async () => {
      const started = Date.now()
      const s = await openAs(gateway.port, '192.0.2.52')
      const elapsed = Date.now() - started
      s.close()
      expectReply(s.xclient, 220, null, 'half zone plus a silent zone')
      assert.ok(elapsed < 4000, `connect took ${elapsed} ms`)
      await gateway.waitForOutput(/DNSBL bl-slow\.test for 192\.0\.2\.52: .*timed out/)
    })
  })

  describe('HeloRule', () => {
    const cases: [string, number, string | null][] = [
      ['good.test', 250, null],
      ['[192.0.2.10]', 250, null],
      ['nowhere.test', 550, '5.7.1'],
      ['other.test', 450, '4.7.1'],
      ['silent.test', 250, null],
    ]
    for (const [helo, code, enhanced] of cases) {
      it(`answers EHLO ${helo} with ${code}`, async () => {
        const s = await openAs(gateway.port, '192.0.2.10')
        const reply = await s.client.command(`EHLO ${helo}`)
        s.close()
        expectReply(reply, code, enhanced, `EHLO ${helo}`)
      })
    }
  })

  describe('MailfromRule', () => {
    const cases: [string, number, string | null][] = [
      ['a@mx.test', 250, null],
      ['', 250, null],
      ['a@nowhere.test', 550, '5.7.1'],
      ['a@aonly.test', 450, '4.7.1'],
      ['a@silent.test', 250, null],
    ]
    for (const [from, code, enhanced] of cases) {
      it(`answers MAIL FROM:<${from}> with ${code}`, async () => {
        const client = await ready(gateway.port, '192.0.2.10')
        const reply = await client.command(`MAIL FROM:<${from}>`)
        client.close()
        expectReply(reply, code, enhanced, `MAIL FROM:<${from}>`)
      })
    }
  })

  describe('RelayRule', () => {
    async function rcpt(addr: string, to: string): Promise<Reply> {
      const client = await ready(gateway.port, addr)
      await client.command('MAIL FROM:<a@mx.test>')
      const reply = await client.command(`RCPT TO:<${to}>`)
      client.close()
      return reply
    }

    it('accepts protected domains from outside', async () => {
      expectReply(await rcpt('192.0.2.10', 'bob@corp.example'), 250, null, 'protected recipient')
    })

    it('lets a deny rule override a protected domain', async () => {
      expectReply(await rcpt('192.0.2.10', 'blocked@corp.example'), 550, '5.7.1', 'denied recipient')
      await gateway.waitForOutput(/reject stage=rcpt rule=RelayRule@mailgw\.conf:\d+ client=192\.0\.2\.10 .*to=<blocked@corp\.example>/)
    })

    it('rejects other domains from outside', async () => {
      expectReply(await rcpt('192.0.2.10', 'x@elsewhere.example'), 550, '5.7.1', 'unprotected recipient')
    })

    it('tempfails as configured', async () => {
      expectReply(await rcpt('192.0.2.10', 'x@busy.example'), 450, '4.7.1', 'tempfail rule')
    })

    it('accepts recipients from a file: list', async () => {
      expectReply(await rcpt('192.0.2.10', 'x@branch.example'), 250, null, 'listed recipient domain')
    })

    it('relays for a named network only', async () => {
      expectReply(await rcpt('198.51.100.7', 'x@partner.example'), 250, null, 'partner client')
      expectReply(await rcpt('192.0.2.10', 'x@partner.example'), 550, '5.7.1', 'other client')
    })

    it('relays anywhere from the local network', async () => {
      expectReply(await rcpt('192.168.1.5', 'x@elsewhere.example'), 250, null, 'inside client')
    })
  })

  describe('relay battery', () => {
    const tricks = [
      'victim%evil.example@corp.example',
      'victim%evil.example@CORP.EXAMPLE',
      'evil.example!victim@corp.example',
      '@corp.example:victim@evil.example',
      '@evil.example:bob@corp.example',
      '"victim@evil.example"@corp.example',
      'Victim@EVIL.Example',
      'victim@[192.0.2.1]',
      'victim@[IPv6:2001:db8::1]',
    ]
    const invalid = ['victim@evil.example.', 'bob@corp.example.']

    it('finds no path through from outside', async () => {
      const client = await ready(gateway.port, '192.0.2.10')
      await client.command('MAIL FROM:<a@mx.test>')
      for (const to of tricks) expectReply(await client.command(`RCPT TO:<${to}>`), 550, '5.7.1', `RCPT TO:<${to}>`)
      for (const to of invalid) assert.equal((await client.command(`RCPT TO:<${to}>`)).code, 501, `RCPT TO:<${to}>`)
      const data = await client.command('DATA')
      client.close()
      assert.equal(data.code, 503, 'no recipient was accepted')
    })

    it('relays the same recipients from the local network', async () => {
      const client = await ready(gateway.port, '192.168.1.5')
      await client.command('MAIL FROM:<a@mx.test>')
      for (const to of tricks) expectReply(await client.command(`RCPT TO:<${to}>`), 250, null, `RCPT TO:<${to}>`)
      for (const to of invalid) assert.equal((await client.command(`RCPT TO:<${to}>`)).code, 501, `RCPT TO:<${to}>`)
      assert.equal((await client.command('DATA')).code, 354)
      const final = await client.data(message('battery'))
      client.close()
      assert.equal(final.code, 250, final.text)

      const delivered = await sink.waitFor(1, 60000)
      const recipients = sink.messages.flatMap((m) => m.to).map((r) => r.toLowerCase())
      assert.ok(delivered.length >= 1)
      for (const expected of ['victim%evil.example@corp.example', 'evil.example!victim@corp.example', 'victim@evil.example', 'victim@[192.0.2.1]']) {
        await waitUntil(() => sink.messages.flatMap((m) => m.to).some((r) => r.toLowerCase() === expected), 60000, `${expected} delivered; got ${recipients.join(', ')}`)
      }
    })
  })
})

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
