// The anti-spam DNSBL check reuses the access stage's connect-time results for the client, and
// still looks up the Received relays. Results for another address or other zones are not reused.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import { lookupDnsbl, type DnsblResults, type DnsblZone } from '../../src/access/dnsbl'
import { dnsblQueryName } from '../../src/access/ip'
import { dnsSigns, reusableDnsbl, type DnsSettings } from '../../src/antispam/dns-checks'
import type { PolicySettings } from '../../src/config'
import { Resolver } from '../../src/dns/resolver'
import type { MessageContext } from '../../src/pipeline/engines'
import { startTestDns, type TestDns } from '../helpers/dns'

const ZONES: DnsblZone[] = [
  { zone: 'bl-a.test', rating: 60 },
  { zone: 'bl-b.test', rating: 30 },
]
const CLIENT = '198.51.100.7'
const RELAY = '198.51.100.8'

const settings = { SpamUseDNS: true, SpamCheckDNSBL: true, SpamCheckHostInDNS: false, SpamCheckSPF: false, SpamCheckSURBL: false } as unknown as PolicySettings

function context(clientDnsbl?: DnsblResults): MessageContext {
  return { transactionId: 't1', mailFrom: 'ann@example.com', recipients: ['bob@example.org'], clientIp: CLIENT, clientHost: null, helo: 'mx.example.com', clientDnsbl }
}

describe('connect-time DNSBL results in the anti-spam stage', () => {
  let dns: TestDns
  let dnsSettings: DnsSettings

  before(async () => {
    dns = await startTestDns()
    dns.list('bl-b.test', CLIENT)
    dns.list('bl-a.test', RELAY)
    // Each test gets its own resolver below, so its cache never hides a query.
    dnsSettings = { resolver: newResolver(), dnsblZones: ZONES, uriZones: [], spfTimeoutMs: 2000 }
  })
  after(() => dns.close())

  const newResolver = () => new Resolver({ servers: [{ host: '127.0.0.1', port: dns.port }], networkTimeout: 1, resolveTimeout: 2, cacheMaxTtl: 60 })
  const clientQueries = () => ZONES.reduce((sum, z) => sum + dns.queries(dnsblQueryName(CLIENT, z.zone) as string, 'A'), 0)

  it('client: stored results, no query', async () => {
    const stored = await lookupDnsbl(newResolver(), CLIENT, ZONES)
    const before = clientQueries()
    const outcome = await dnsSigns(context(stored), [], [], settings, { ...dnsSettings, resolver: newResolver() })
    assert.equal(clientQueries(), before)
    assert.equal(outcome.dnsblRating, 30)
    assert.equal(outcome.signs[0]?.detail, `client ${CLIENT} in bl-b.test (rating 30)`)
  })

  it('reused: same outcome as fresh', async () => {
    const stored = await lookupDnsbl(newResolver(), CLIENT, ZONES)
    const reused = await dnsSigns(context(stored), [], [], settings, { ...dnsSettings, resolver: newResolver() })
    const fresh = await dnsSigns(context(), [], [], settings, { ...dnsSettings, resolver: newResolver() })
    assert.deepEqual(reused, fresh)
  })

  it('relays: still looked up', async () => {
    const stored = await lookupDnsbl(newResolver(), CLIENT, ZONES)
    const before = dns.queries(dnsblQueryName(RELAY, 'bl-a.test') as string, 'A')
    const outcome = await dnsSigns(context(stored), [RELAY], [], settings, { ...dnsSettings, resolver: newResolver() })
    assert.equal(dns.queries(dnsblQueryName(RELAY, 'bl-a.test') as string, 'A'), before + 1)
    assert.equal(outcome.dnsblRating, 60)
    assert.match(outcome.signs[0]?.detail ?? '', /^relay 198\.51\.100\.8 in bl-a\.test/)
  })

  it('other address: client looked up', async () => {
    const other = await lookupDnsbl(newResolver(), '198.51.100.99', ZONES)
    const before = clientQueries()
    const outcome = await dnsSigns(context(other), [], [], settings, { ...dnsSettings, resolver: newResolver() })
    assert.equal(clientQueries(), before + ZONES.length)
    assert.equal(outcome.dnsblRating, 30)
  })
})

describe('reusableDnsbl', () => {
  const results = (over: Partial<DnsblResults> = {}): DnsblResults => ({
    ip: CLIENT,
    zones: ZONES.map((z) => ({ ...z, listed: false, codes: [], elapsedMs: 1 })),
    score: 0,
    inDnsbl: false,
    checkedAt: new Date().toISOString(),
    ...over,
  })

  it('same address and zones: reused', () => {
    const stored = results()
    assert.equal(reusableDnsbl(stored, CLIENT, ZONES), stored)
    assert.equal(reusableDnsbl(stored, CLIENT, ZONES.map((z) => ({ ...z, zone: z.zone.toUpperCase() }))), stored)
  })

  it('other address, zones or ratings: rejected', () => {
    assert.equal(reusableDnsbl(undefined, CLIENT, ZONES), null)
    assert.equal(reusableDnsbl(results(), '198.51.100.9', ZONES), null)
    assert.equal(reusableDnsbl(results(), CLIENT, [...ZONES, { zone: 'bl-c.test', rating: 10 }]), null)
    assert.equal(reusableDnsbl(results(), CLIENT, [ZONES[0]]), null)
    assert.equal(reusableDnsbl(results(), CLIENT, [ZONES[0], { zone: 'bl-b.test', rating: 50 }]), null)
  })

  it('skipped lookup: private addresses only', () => {
    const skipped = (ip: string) => results({ ip, zones: [], skipped: 'loopback or private address' })
    assert.ok(reusableDnsbl(skipped('10.1.2.3'), '10.1.2.3', ZONES))
    assert.equal(reusableDnsbl(results({ zones: [], skipped: 'no DNSBlackList zones configured' }), CLIENT, ZONES), null)
  })
})
