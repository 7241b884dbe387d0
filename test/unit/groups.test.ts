import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { formatConfigError, parseConfig, type MailgwConfig } from '../../src/config'
import { GroupMatcher, type SenderContext } from '../../src/groups/match'

const NETWORK = [
  '[mailgw.network]',
  'Hostname=gw.example.com',
  'Postmaster=postmaster@example.com',
  'Network=branch 192.0.2.0/24,198.51.100.7',
  'Network=lab 2001:db8::/32',
].join('\n')

function config(body: string): MailgwConfig {
  const result = parseConfig(`${NETWORK}\n[mailgw.policy]\nBlockMessage=as/spam\n${body}`, '/srv/mailgw/config/mailgw.conf')
  assert.deepEqual(result.errors.map(formatConfigError), [])
  assert.ok(result.config)
  return result.config
}

function sender(overrides: Partial<SenderContext> = {}): SenderContext {
  return { mailFrom: 'someone@outside.example', clientIp: '203.0.113.9', clientHost: null, ...overrides }
}

function groupOf(body: string, recipient: string, from: Partial<SenderContext> = {}): string {
  return new GroupMatcher(config(body)).groupOf(sender(from), recipient).name
}

describe('group selection by Senders', () => {
  it('matches an address mask', () => {
    const body = '[mailgw.group:internal]\nSenders=*@internal.local\nSenders=user?@x.org'
    assert.equal(groupOf(body, 'a@corp.example', { mailFrom: 'bob@internal.local' }), 'internal')
    assert.equal(groupOf(body, 'a@corp.example', { mailFrom: 'user1@x.org' }), 'internal')
    assert.equal(groupOf(body, 'a@corp.example', { mailFrom: 'user12@x.org' }), 'policy')
    assert.equal(groupOf(body, 'a@corp.example', { mailFrom: 'BOB@INTERNAL.LOCAL' }), 'internal')
  })

  it('matches an ip range or netmask', () => {
    const body = '[mailgw.group:lan]\nSenders=ip 10.10.0.0/16\nSenders=ip 172.16.0.0/255.255.0.0\nSenders=ip 192.0.2.1'
    assert.equal(groupOf(body, 'a@corp.example', { clientIp: '10.10.200.3' }), 'lan')
    assert.equal(groupOf(body, 'a@corp.example', { clientIp: '172.16.9.9' }), 'lan')
    assert.equal(groupOf(body, 'a@corp.example', { clientIp: '192.0.2.1' }), 'lan')
    assert.equal(groupOf(body, 'a@corp.example', { clientIp: '192.0.2.2' }), 'policy')
    assert.equal(groupOf(body, 'a@corp.example', { clientIp: '::ffff:10.10.1.1' }), 'lan')
  })

  it('matches a named network', () => {
    const body = '[mailgw.group:branch]\nSenders=network branch\n[mailgw.group:lab]\nSenders=network lab'
    assert.equal(groupOf(body, 'a@corp.example', { clientIp: '192.0.2.77' }), 'branch')
    assert.equal(groupOf(body, 'a@corp.example', { clientIp: '198.51.100.7' }), 'branch')
    assert.equal(groupOf(body, 'a@corp.example', { clientIp: '2001:db8::25' }), 'lab')
    assert.equal(groupOf(body, 'a@corp.example', { clientIp: '198.51.100.8' }), 'policy')
  })

  it('matches a verified host name', () => {
    const body = '[mailgw.group:partners]\nSenders=host *.partner.example'
    assert.equal(groupOf(body, 'a@corp.example', { clientHost: 'mx1.partner.example' }), 'partners')
    assert.equal(groupOf(body, 'a@corp.example', { clientHost: 'mx1.partner.example.' }), 'partners')
    assert.equal(groupOf(body, 'a@corp.example', { clientHost: 'partner.example.evil' }), 'policy')
    assert.equal(groupOf(body, 'a@corp.example', { clientHost: null }), 'policy')
  })
})

describe('group selector keys', () => {
  it('treats a missing key as any', () => {
    const body = '[mailgw.group:managers]\nRecipients=*@managers.example.com'
    assert.equal(groupOf(body, 'boss@managers.example.com', { mailFrom: 'x@anywhere.example' }), 'managers')
    assert.equal(groupOf(body, 'boss@managers.example.com', { mailFrom: '' }), 'managers')
    assert.equal(groupOf(body, 'clerk@corp.example'), 'policy')
  })

  it('treats an empty key as nothing', () => {
    assert.equal(groupOf('[mailgw.group:off]\nSenders=\nRecipients=*', 'a@corp.example'), 'policy')
    assert.equal(groupOf('[mailgw.group:off]\nRecipients=', 'a@corp.example'), 'policy')
  })

  it('needs both Senders and Recipients to match', () => {
    const body = '[mailgw.group:g]\nSenders=*@internal.local\nRecipients=*@managers.example.com'
    assert.equal(groupOf(body, 'boss@managers.example.com', { mailFrom: 'a@internal.local' }), 'g')
    assert.equal(groupOf(body, 'boss@managers.example.com', { mailFrom: 'a@outside.example' }), 'policy')
    assert.equal(groupOf(body, 'clerk@corp.example', { mailFrom: 'a@internal.local' }), 'policy')
  })

  it('takes the first matching group in file order', () => {
    const body = '[mailgw.group:first]\nRecipients=*@corp.example\n[mailgw.group:second]\nRecipients=boss@corp.example'
    assert.equal(groupOf(body, 'boss@corp.example'), 'first')
  })

  it('matches the null sender only by mask', () => {
    const body = '[mailgw.group:any]\nSenders=*@*\nSenders=ip 10.0.0.0/8'
    assert.equal(groupOf(body, 'a@corp.example', { mailFrom: '' }), 'policy', '*@* needs an @')
    assert.equal(groupOf(body, 'a@corp.example', { mailFrom: '', clientIp: '10.1.1.1' }), 'any', 'the client still counts')
    assert.equal(groupOf(body, 'a@corp.example', { mailFrom: 'x@y.example' }), 'any')
  })
})

describe('group settings', () => {
  it('inherits keys the group does not set', () => {
    const cfg = config('[mailgw.group:managers]\nRecipients=*@managers.example.com\nBlockMessage=as/spam,as/probable\n')
    const matcher = new GroupMatcher(cfg)
    const managers = matcher.groupOf(sender(), 'boss@managers.example.com')
    const policy = matcher.groupOf(sender(), 'clerk@corp.example')
    assert.deepEqual(managers.settings.BlockMessage, ['as/spam', 'as/probable'])
    assert.deepEqual(policy.settings.BlockMessage, ['as/spam'])
    assert.equal(managers.settings.CheckSpam, policy.settings.CheckSpam)
    assert.deepEqual(managers.settings.MarkSubject, policy.settings.MarkSubject)
  })
})

describe('recipient partition', () => {
  it('makes one set per group in first-seen order', () => {
    const matcher = new GroupMatcher(config('[mailgw.group:managers]\nRecipients=*@managers.example.com'))
    const sets = matcher.partition(sender(), ['a@corp.example', 'boss@managers.example.com', 'b@corp.example'], (r) => r)
    assert.deepEqual(
      sets.map((s) => [s.choice.name, s.recipients]),
      [
        ['policy', ['a@corp.example', 'b@corp.example']],
        ['managers', ['boss@managers.example.com']],
      ],
    )
  })

  it('explains why a group was passed over', () => {
    const matcher = new GroupMatcher(config('[mailgw.group:lan]\nSenders=ip 10.0.0.0/8\n[mailgw.group:managers]\nRecipients=*@managers.example.com'))
    const { choice, trials } = matcher.explain(sender(), 'boss@managers.example.com')
    assert.equal(choice.name, 'managers')
    assert.equal(trials[0].sendersMatch, null)
    assert.equal(trials[0].recipientsMatch, 'not set')
    assert.equal(trials[1].recipientsMatch, '*@managers.example.com')
  })
})
