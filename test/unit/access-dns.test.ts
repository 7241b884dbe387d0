import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { lookupDnsbl } from '../../src/access/dnsbl'
import { TtlCache } from '../../src/dns/cache'
import { Resolver } from '../../src/dns/resolver'
import { startTestDns, type TestDns } from '../helpers/dns'

describe('resolver against a loopback DNS server', () => {
  let dns: TestDns
  let resolver: Resolver

  before(async () => {
    dns = await startTestDns()
    dns.set('mail.test', { A: ['192.0.2.10'], AAAA: ['2001:db8::10'], MX: [{ exchange: 'mx.mail.test', priority: 10 }], TXT: ['v=spf1 -all'] })
    dns.set('slow.test', { A: ['192.0.2.11'], delayMs: 300 })
    dns.set('silent.test', { A: ['192.0.2.12'], delayMs: Infinity })
    dns.reverse('192.0.2.10', 'mail.test')
    resolver = new Resolver({ servers: [{ host: '127.0.0.1', port: dns.port }], networkTimeout: 1, resolveTimeout: 2, cacheMaxTtl: 60 })
  })

  after(() => dns.close())

  it('returns each record type', async () => {
    assert.deepEqual(await resolver.lookup('mail.test', 'A'), { status: 'ok', records: ['192.0.2.10'] })
    assert.deepEqual(await resolver.lookup('mail.test', 'AAAA'), { status: 'ok', records: ['2001:db8::10'] })
    assert.deepEqual(await resolver.lookup('mail.test', 'MX'), { status: 'ok', records: [{ exchange: 'mx.mail.test', priority: 10 }] })
    assert.deepEqual(await resolver.lookup('mail.test', 'TXT'), { status: 'ok', records: ['v=spf1 -all'] })
    assert.deepEqual(await resolver.lookup('10.2.0.192.in-addr.arpa', 'PTR'), { status: 'ok', records: ['mail.test'] })
  })

  it('tells NXDOMAIN from NODATA', async () => {
    assert.equal((await resolver.lookup('missing.test', 'A')).status, 'nxdomain')
    assert.equal((await resolver.lookup('slow.test', 'MX')).status, 'nodata')
  })

  it('caches answers', async () => {
    const before = dns.queries('mail.test')
    await resolver.lookup('mail.test', 'A')
    await resolver.lookup('MAIL.test.', 'A')
    assert.equal(dns.queries('mail.test'), before)
  })

  it('does not cache with DNSCacheMaximalTTL=0', async () => {
    const uncached = new Resolver({ servers: [{ host: '127.0.0.1', port: dns.port }], networkTimeout: 1, resolveTimeout: 2, cacheMaxTtl: 0 })
    const before = dns.queries('mail.test')
    await uncached.lookup('mail.test', 'MX')
    await uncached.lookup('mail.test', 'MX')
    assert.equal(dns.queries('mail.test'), before + 2)
  })

  it('waits for a slow answer within the timeout', async () => {
    assert.deepEqual(await resolver.lookup('slow.test', 'A'), { status: 'ok', records: ['192.0.2.11'] })
  })

  it('gives up after DNSResolveTimeout with retries', async () => {
    const started = Date.now()
    const result = await resolver.lookup('silent.test', 'A')
    const elapsed = Date.now() - started
    assert.equal(result.status, 'error')
    assert.ok(elapsed >= 1900 && elapsed < 3000, `took ${elapsed} ms`)
    assert.ok(dns.queries('silent.test') >= 2, 'retried after DNSNetworkTimeout')
  })
})

describe('DNSBL lookups', () => {
  let dns: TestDns
  let resolver: Resolver

  before(async () => {
    dns = await startTestDns()
    dns.list('strong.bl.test', '192.0.2.50')
    dns.list('half1.bl.test', '192.0.2.50')
    dns.list('half2.bl.test', '192.0.2.50')
    dns.list('half1.bl.test', '192.0.2.51')
    dns.list('broken.bl.test', '192.0.2.52', { A: ['127.255.255.254'] })
    dns.set('60.2.0.192.slow.bl.test', { A: ['127.0.0.2'], delayMs: Infinity })
    dns.list('half1.bl.test', '192.0.2.60')
    dns.list('v6.bl.test', '2001:db8::50')
    resolver = new Resolver({ servers: [{ host: '127.0.0.1', port: dns.port }], networkTimeout: 1, resolveTimeout: 1, cacheMaxTtl: 60 })
  })

  after(() => dns.close())

  const zones = [
    { zone: 'half1.bl.test', rating: 50 },
    { zone: 'half2.bl.test', rating: 50 },
  ]

  it('holds at exactly 100', async () => {
    const r = await lookupDnsbl(resolver, '192.0.2.50', zones)
    assert.equal(r.score, 100)
    assert.equal(r.inDnsbl, true)
    assert.deepEqual(r.zones.map((z) => z.listed), [true, true])
    assert.match(r.zones[0].reason ?? '', /listed in half1\.bl\.test/)
  })

  it('does not hold below 100', async () => {
    const r = await lookupDnsbl(resolver, '192.0.2.51', zones)
    assert.equal(r.score, 50)
    assert.equal(r.inDnsbl, false)
  })

  it('counts a timed-out zone as nothing', async () => {
    const started = Date.now()
    const r = await lookupDnsbl(resolver, '192.0.2.60', [...zones, { zone: 'slow.bl.test', rating: 50 }])
    assert.ok(Date.now() - started < 2000, 'zones are asked in parallel')
    assert.equal(r.score, 50)
    assert.equal(r.inDnsbl, false)
    assert.match(r.zones[2].error ?? '', /timed out/)
  })

  it('treats 127.255.255.x as a list error', async () => {
    const r = await lookupDnsbl(resolver, '192.0.2.52', [{ zone: 'broken.bl.test', rating: 100 }])
    assert.equal(r.inDnsbl, false)
    assert.match(r.zones[0].error ?? '', /error code 127\.255\.255\.254/)
  })

  it('looks up IPv6 clients by nibbles', async () => {
    const r = await lookupDnsbl(resolver, '2001:db8::50', [{ zone: 'v6.bl.test', rating: 100 }])
    assert.equal(r.inDnsbl, true)
  })

  it('skips private and loopback clients', async () => {
    const r = await lookupDnsbl(resolver, '192.168.1.1', zones)
    assert.equal(r.skipped, 'loopback or private address')
    assert.equal(r.zones.length, 0)
  })
})

describe('TtlCache', () => {
  it('caps the TTL and drops the oldest entry when full', () => {
    let now = 0
    const cache = new TtlCache<string>(10, 2, () => now)
    cache.set('a', '1', 300)
    now = 9000
    assert.equal(cache.get('a'), '1')
    now = 10001
    assert.equal(cache.get('a'), undefined)
    cache.set('b', '2', 5)
    cache.set('c', '3', 5)
    cache.set('d', '4', 5)
    assert.equal(cache.get('b'), undefined)
    assert.equal(cache.get('d'), '4')
  })
})
