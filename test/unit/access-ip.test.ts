import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { dnsblQueryName, netmaskBits, parseIp, parseIpRange, rangeContains, reverseName } from '../../src/access/ip'

describe('parseIpRange', () => {
  it('reads a single IPv4 address as /32', () => {
    assert.equal(parseIpRange('10.10.138.99')?.text, '10.10.138.99/32')
  })

  it('reads CIDR and clears host bits', () => {
    assert.equal(parseIpRange('192.168.7.9/16')?.text, '192.168.0.0/16')
  })

  it('reads a dotted netmask', () => {
    assert.equal(parseIpRange('10.1.2.3/255.255.0.0')?.text, '10.1.0.0/16')
    assert.equal(parseIpRange('10.1.2.3/255.0.255.0'), null)
  })

  it('reads IPv6 ranges', () => {
    assert.equal(parseIpRange('2001:db8::1/32')?.text, '2001:db8::/32')
    assert.equal(parseIpRange('::1')?.text, '::1/128')
  })

  it('rejects invalid ranges', () => {
    for (const bad of ['10.0.0.0/33', '2001:db8::/129', '300.1.1.1', 'example.com', '10.0.0.0/', '2001:db8::/255.255.0.0']) {
      assert.equal(parseIpRange(bad), null, bad)
    }
  })
})

describe('rangeContains', () => {
  it('matches at the edges of an IPv4 range', () => {
    const range = parseIpRange('192.168.0.0/16')!
    assert.ok(rangeContains(range, '192.168.0.0'))
    assert.ok(rangeContains(range, '192.168.255.255'))
    assert.ok(!rangeContains(range, '192.169.0.0'))
    assert.ok(!rangeContains(range, '192.167.255.255'))
  })

  it('matches /0 and /32', () => {
    assert.ok(rangeContains(parseIpRange('0.0.0.0/0')!, '203.0.113.5'))
    assert.ok(rangeContains(parseIpRange('203.0.113.5')!, '203.0.113.5'))
    assert.ok(!rangeContains(parseIpRange('203.0.113.5')!, '203.0.113.6'))
  })

  it('matches IPv6 and never crosses families', () => {
    const range = parseIpRange('2001:db8:1::/48')!
    assert.ok(rangeContains(range, '2001:db8:1:ffff::1'))
    assert.ok(!rangeContains(range, '2001:db8:2::1'))
    assert.ok(!rangeContains(parseIpRange('0.0.0.0/0')!, '2001:db8::1'))
  })

  it('treats IPv4-mapped IPv6 as IPv4', () => {
    assert.ok(rangeContains(parseIpRange('10.0.0.0/8')!, '::ffff:10.1.2.3'))
    assert.deepEqual(parseIp('::ffff:10.1.2.3'), parseIp('10.1.2.3'))
  })
})

describe('netmaskBits', () => {
  it('converts contiguous masks only', () => {
    assert.equal(netmaskBits('255.255.255.0'), 24)
    assert.equal(netmaskBits('255.255.255.255'), 32)
    assert.equal(netmaskBits('0.0.0.0'), 0)
    assert.equal(netmaskBits('255.0.255.0'), null)
  })
})

describe('DNS names of addresses', () => {
  it('reverses IPv4 octets for DNSBL and PTR', () => {
    assert.equal(dnsblQueryName('192.0.2.99', 'bl.test'), '99.2.0.192.bl.test')
    assert.equal(reverseName('192.0.2.99'), '99.2.0.192.in-addr.arpa')
  })

  it('reverses IPv6 nibbles', () => {
    assert.equal(
      dnsblQueryName('2001:db8::1', 'bl.test'),
      '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.test',
    )
  })
})
