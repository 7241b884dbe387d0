import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseConfig } from '../../src/config'
import { partitionByRoute, resolveRoute, routeKey } from '../../src/route/forward'

function routesOf(lines: string): ReturnType<typeof parseConfig>['config'] {
  const text = `[mailgw.network]\nHostname=gw.example\nPostmaster=pm@example.com\nProtectedDomains=*\n[mailgw.forward]\n${lines}\n[mailgw.policy]\n`
  const { config, errors } = parseConfig(text, '/tmp/route-test.conf')
  assert.deepEqual(errors, [])
  return config
}

describe('ForwardRoute matching', () => {
  const config = routesOf(
    [
      'ForwardRoute=boss@example.com [10.0.0.9:2525]',
      'ForwardRoute=*@example.com [mail.example.com]',
      'ForwardRoute=*@example.net relay.example.org',
      'ForwardRoute=any [127.0.0.1:2526]',
    ].join('\n'),
  )!
  const rules = config.forward.ForwardRoute

  it('first match wins', () => {
    assert.deepEqual(resolveRoute(rules, 'boss@example.com').target, { kind: 'host', host: '10.0.0.9', port: 2525 })
    assert.deepEqual(resolveRoute(rules, 'staff@example.com').target, { kind: 'host', host: 'mail.example.com', port: 25 })
  })

  it('domain form delivers to that domain MX', () => {
    assert.deepEqual(resolveRoute(rules, 'x@example.net').target, { kind: 'mx', domain: 'relay.example.org' })
  })

  it('any catches the rest', () => {
    assert.deepEqual(resolveRoute(rules, 'x@elsewhere.test').target, { kind: 'host', host: '127.0.0.1', port: 2526 })
  })

  it('no match means own MX', () => {
    const route = resolveRoute(rules.slice(0, 2), 'x@Elsewhere.Test')
    assert.deepEqual(route.target, { kind: 'mx', domain: 'elsewhere.test' })
    assert.equal(route.rule, null)
  })

  it('partition groups recipients by next hop', () => {
    const parts = partitionByRoute(rules, ['a@example.com', 'x@example.net', 'b@example.com', 'boss@example.com'], (r) => r)
    assert.deepEqual(
      parts.map((p) => [routeKey(p.target), p.recipients]),
      [
        ['host:mail.example.com:25', ['a@example.com', 'b@example.com']],
        ['mx:relay.example.org', ['x@example.net']],
        ['host:10.0.0.9:2525', ['boss@example.com']],
      ],
    )
  })
})
