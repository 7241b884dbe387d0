import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, describe, it } from 'node:test'
import {
  firstMatch,
  heloTestHolds,
  mailfromTestHolds,
  matchClientRules,
  type ClientFacts,
} from '../../src/access/evaluate'
import { parseIpRange } from '../../src/access/ip'
import { decideRelay, relayTricks } from '../../src/access/relay'
import { parseRule, type ClientRule, type HeloRule, type RuleKey } from '../../src/access/rules'
import { matchAddressMask, matchMask } from '../../src/match/mask'

const dir = mkdtempSync(path.join(os.tmpdir(), 'mailgw-rules-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let lineNo = 0

function rule(key: 'ConnectRule' | 'RelayRule', text: string): ClientRule
function rule(key: 'HeloRule', text: string): HeloRule
function rule(key: RuleKey, text: string): unknown {
  const parsed = parseRule(key, { text, file: 'mailgw.conf', line: ++lineNo }, dir)
  if (!parsed.ok) throw new Error(parsed.error)
  return parsed.rule
}

function error(key: RuleKey, text: string): string {
  const parsed = parseRule(key, { text, file: 'mailgw.conf', line: 7 }, dir)
  assert.equal(parsed.ok, false, `${text} should not parse`)
  return parsed.ok ? '' : parsed.error
}

const client = (ip: string, extra: Partial<ClientFacts> = {}): ClientFacts => ({ ip, verifiedHost: null, inDnsbl: false, ...extra })
const networks = new Map([['MyNetwork', [parseIpRange('10.10.0.0/16')!, parseIpRange('2001:db8:10::/48')!]]])

describe('parseRule', () => {
  it('reads the KMG guide examples', () => {
    const connect = rule('ConnectRule', 'deny for ip 10.10.138.99')
    assert.equal(connect.verdict, 'deny')
    assert.equal(connect.subject.kind, 'ip')
    assert.equal(connect.to, null)

    const relay = rule('RelayRule', 'allow from 192.168.0.0/16 to *')
    assert.equal(relay.verdict, 'accept')
    assert.equal(relay.subject.kind, 'ip')
    assert.equal(relay.to, null)
  })

  it('maps verdict aliases', () => {
    assert.equal(rule('ConnectRule', 'reject any').verdict, 'deny')
    assert.equal(rule('ConnectRule', 'accept any').verdict, 'accept')
    assert.equal(rule('ConnectRule', 'ALLOW for any').verdict, 'accept')
    assert.equal(rule('ConnectRule', 'tempfail for in_dnsbl').verdict, 'tempfail')
  })

  it('reads the older from/to form', () => {
    const r = rule('RelayRule', 'deny from any to *@example.com, *@example.org')
    assert.equal(r.subject.kind, 'any')
    assert.deepEqual(r.to, ['*@example.com', '*@example.org'])
    assert.equal(rule('HeloRule', 'deny from no_ip to *').test, 'no_ip')
    assert.equal(rule('RelayRule', 'allow to *@corp.example').subject.kind, 'any')
  })

  it('reads bare IPs and host masks in the older form', () => {
    assert.equal(rule('ConnectRule', 'deny from 10.0.0.0/255.0.0.0').subject.kind, 'ip')
    const host = rule('ConnectRule', 'deny from *.dialup.example')
    assert.deepEqual(host.subject, { kind: 'host', masks: ['*.dialup.example'] })
  })

  it('reads network and host subjects with lists', () => {
    assert.deepEqual(rule('ConnectRule', 'accept for network MyNetwork, Other').subject, { kind: 'network', names: ['MyNetwork', 'Other'] })
    assert.deepEqual(rule('ConnectRule', 'deny host *.bad.example,mail?.worse.example').subject, {
      kind: 'host',
      masks: ['*.bad.example', 'mail?.worse.example'],
    })
  })

  it('expands file: lists of subjects and recipients', () => {
    writeFileSync(path.join(dir, 'bad-ips'), '# blocked clients\n203.0.113.7\n\n198.51.100.0/24\n2001:db8:bad::/48\n')
    writeFileSync(path.join(dir, 'rcpts'), '*@corp.example\n*@branch.example\n')
    const r = rule('ConnectRule', 'deny for ip file:bad-ips')
    assert.equal(r.subject.kind === 'ip' && r.subject.ranges.length, 3)
    const relay = rule('RelayRule', `allow from any to file:${path.join(dir, 'rcpts')}`)
    assert.deepEqual(relay.to, ['*@corp.example', '*@branch.example'])
  })

  it('reports malformed rules with their line', () => {
    const parsed = parseRule('ConnectRule', { text: 'block 1.2.3.4', file: 'x.conf', line: 12 }, dir)
    assert.equal(parsed.ok, false)
    assert.equal(!parsed.ok && parsed.line, 12)
    assert.match(error('ConnectRule', 'block 1.2.3.4'), /must start with accept/)
    assert.match(error('ConnectRule', 'deny for ip 10.0.0.300'), /"10\.0\.0\.300" is not an IP address/)
    assert.match(error('ConnectRule', 'deny'), /client subject is missing/)
    assert.match(error('HeloRule', 'deny for has_mx'), /unknown test "has_mx"/)
    assert.match(error('MailfromRule', 'deny for same_ip'), /unknown test/)
    assert.match(error('RelayRule', 'allow'), /needs "from SUBJECT", "to MASKS" or both/)
    assert.match(error('RelayRule', 'allow from any to'), /recipient mask is missing/)
    assert.match(error('ConnectRule', 'deny for ip file:missing-file'), /cannot read list file .*file not found/)
    assert.match(error('ConnectRule', 'deny for host bad_host!'), /not a host name mask/)
  })
})

describe('masks', () => {
  it('match * and ? case-insensitively', () => {
    assert.ok(matchMask('mail?.example.com', 'MAIL1.Example.COM'))
    assert.ok(!matchMask('mail?.example.com', 'mail12.example.com'))
    assert.ok(matchMask('*.example.com', 'a.b.example.com'))
    assert.ok(!matchMask('*.example.com', 'example.com'))
  })

  it('match recipients by address or domain mask', () => {
    assert.ok(matchAddressMask('*@corp.example', 'Bob@CORP.example'))
    assert.ok(matchAddressMask('corp.example', 'bob@corp.example'))
    assert.ok(!matchAddressMask('*@corp.example', 'bob@corp.example.evil'))
  })
})

describe('first match wins', () => {
  const rules = [rule('ConnectRule', 'accept for ip 10.10.1.1'), rule('ConnectRule', 'deny for network MyNetwork'), rule('ConnectRule', 'tempfail for any')]

  it('takes the first matching rule in file order', () => {
    assert.equal(matchClientRules(rules, client('10.10.1.1'), networks).kind === 'match' && (matchClientRules(rules, client('10.10.1.1'), networks) as { rule: ClientRule }).rule.verdict, 'accept')
    const second = matchClientRules(rules, client('10.10.2.2'), networks)
    assert.equal(second.kind === 'match' && second.rule.verdict, 'deny')
    const third = matchClientRules(rules, client('192.0.2.1'), networks)
    assert.equal(third.kind === 'match' && third.rule.verdict, 'tempfail')
  })

  it('matches named networks over IPv6', () => {
    const outcome = matchClientRules([rule('ConnectRule', 'deny for network MyNetwork')], client('2001:db8:10::25'), networks)
    assert.equal(outcome.kind, 'match')
  })

  it('matches host masks on the verified name only', () => {
    const hostRule = [rule('ConnectRule', 'deny for host *.dialup.example')]
    assert.equal(matchClientRules(hostRule, client('192.0.2.1', { verifiedHost: 'h1.dialup.example' }), networks).kind, 'match')
    assert.equal(matchClientRules(hostRule, client('192.0.2.1'), networks).kind, 'none')
  })

  it('defers a rule with recipients until RCPT', () => {
    const list = [rule('ConnectRule', 'deny from any to *@secret.example'), rule('ConnectRule', 'accept for any')]
    assert.equal(matchClientRules(list, client('192.0.2.1'), networks).kind, 'deferred')
    const atRcpt = matchClientRules(list, client('192.0.2.1'), networks, 'x@secret.example')
    assert.equal(atRcpt.kind === 'match' && atRcpt.rule.verdict, 'deny')
    const other = matchClientRules(list, client('192.0.2.1'), networks, 'x@corp.example')
    assert.equal(other.kind === 'match' && other.rule.verdict, 'accept')
  })

  it('returns none when nothing matches', () => {
    assert.equal(firstMatch([rule('ConnectRule', 'deny for in_dnsbl')], () => false).kind, 'none')
  })
})

describe('HELO and MAIL FROM tests', () => {
  it('compare the HELO addresses with the client', () => {
    const same = { kind: 'known' as const, addresses: ['192.0.2.1', '2001:db8::1'], clientIp: '192.0.2.1' }
    const diff = { kind: 'known' as const, addresses: ['192.0.2.9'], clientIp: '192.0.2.1' }
    const none = { kind: 'known' as const, addresses: [], clientIp: '192.0.2.1' }
    assert.equal(heloTestHolds('same_ip', same), true)
    assert.equal(heloTestHolds('diff_ip', same), false)
    assert.equal(heloTestHolds('has_ip', same), true)
    assert.equal(heloTestHolds('diff_ip', diff), true)
    assert.equal(heloTestHolds('same_ip', diff), false)
    assert.equal(heloTestHolds('no_ip', none), true)
    assert.equal(heloTestHolds('diff_ip', none), false)
  })

  it('match only any when DNS failed', () => {
    for (const t of ['has_ip', 'no_ip', 'same_ip', 'diff_ip'] as const) assert.ok(!heloTestHolds(t, { kind: 'unknown' }), t)
    assert.ok(heloTestHolds('any', { kind: 'unknown' }))
    assert.ok(!mailfromTestHolds('no_mx', { kind: 'unknown', hasAddress: null, hasMx: null }))
  })

  it('never match the null sender except any', () => {
    for (const t of ['has_ip', 'no_ip', 'has_mx', 'no_mx'] as const) assert.ok(!mailfromTestHolds(t, { kind: 'null_sender' }), t)
    assert.ok(mailfromTestHolds('any', { kind: 'null_sender' }))
  })
})

describe('relay decision', () => {
  const inside = rule('RelayRule', 'allow from 192.168.0.0/16 to *')
  const toCorp = rule('RelayRule', 'allow from any to *@corp.example')
  const rcpt = (user: string, host: string, original = `<${user}@${host}>`) => ({ user, host, original, address: `${user}@${host}` })
  const decide = (ip: string, r: ReturnType<typeof rcpt>, rules = [inside]) =>
    decideRelay({ rules, client: client(ip), networks, protectedDomains: ['corp.example'], recipient: r })

  it('accepts protected domains and rejects others from outside', () => {
    assert.equal(decide('203.0.113.9', rcpt('bob', 'corp.example')).verdict, 'accept')
    assert.equal(decide('203.0.113.9', rcpt('Bob', 'CORP.Example')).verdict, 'accept')
    const other = decide('203.0.113.9', rcpt('victim', 'evil.example'))
    assert.equal(other.verdict, 'deny')
    assert.equal(other.rule, 'ProtectedDomains')
  })

  it('finds every relay trick', () => {
    assert.deepEqual(relayTricks(rcpt('victim%evil.example', 'corp.example')), ['percent-hack'])
    assert.deepEqual(relayTricks(rcpt('evil.example!victim', 'corp.example')), ['bang-path'])
    assert.deepEqual(relayTricks(rcpt('"victim@evil.example"', 'corp.example')), ['quoted-at'])
    assert.deepEqual(relayTricks(rcpt('bob', 'corp.example', '<@evil.example:bob@corp.example>')), ['source-route'])
    assert.deepEqual(relayTricks(rcpt('victim', '[192.0.2.1]')), ['address-literal'])
  })

  it('rejects tricks from outside even to a protected domain', () => {
    for (const r of [rcpt('victim%evil.example', 'corp.example'), rcpt('evil.example!victim', 'corp.example'), rcpt('victim', '[192.0.2.1]')]) {
      const d = decide('203.0.113.9', r, [inside, toCorp])
      assert.equal(d.verdict, 'deny', r.address)
      assert.equal(d.rule, 'RelayTrick', r.address)
    }
  })

  it('relays tricks for clients allowed to relay anywhere', () => {
    for (const r of [rcpt('victim%evil.example', 'corp.example'), rcpt('victim', 'evil.example'), rcpt('victim', '[192.0.2.1]')]) {
      assert.equal(decide('192.168.1.5', r).verdict, 'accept', r.address)
    }
  })

  it('lets a deny rule override a protected domain', () => {
    const deny = rule('RelayRule', 'deny from any to ceo@corp.example')
    const d = decide('203.0.113.9', rcpt('ceo', 'corp.example'), [deny])
    assert.equal(d.verdict, 'deny')
  })
})

describe('check-config of access rules', () => {
  it('reports each malformed rule with its line', async () => {
    const { parseConfig } = await import('../../src/config')
    const text = [
      '[mailgw.network]',
      'Hostname=gw.example',
      'Postmaster=postmaster@example.com',
      'Network=Office 10.10.0.0/16',
      '[mailgw.access]',
      'ConnectRule=deny for ip 10.10.138.99',
      'ConnectRule=deny for ipp 1.2.3.4',
      'RelayRule=allow from network Office to *',
      'RelayRule=allow from network Lab to *',
      'HeloRule=deny for has_mx',
      '[mailgw.policy]',
    ].join('\n')
    const { errors } = parseConfig(text, path.join(dir, 'mailgw.conf'))
    assert.deepEqual(errors.map((e) => e.line), [7, 9, 10])
    assert.match(errors[0].message, /invalid ConnectRule "deny for ipp 1\.2\.3\.4"/)
    assert.match(errors[1].message, /unknown network "lab"/)
    assert.match(errors[2].message, /unknown test "has_mx"/)
  })
})

describe('mistyped subjects', () => {
  it('rejects a bare word without a dot', () => {
    assert.match(error('ConnectRule', 'deny for in_dnsbll'), /"in_dnsbll" is not a known subject/)
  })

  it('accepts a one-label host with the keyword', () => {
    assert.deepEqual(rule('ConnectRule', 'deny for host gateway').subject, { kind: 'host', masks: ['gateway'] })
  })

  it('accepts a bare host mask', () => {
    assert.deepEqual(rule('ConnectRule', 'deny from *.example.com').subject, { kind: 'host', masks: ['*.example.com'] })
  })
})
