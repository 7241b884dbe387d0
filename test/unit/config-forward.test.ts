import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { normaliseAddressMask, parseForwardRoute, parseForwardTarget } from '../../src/config'

describe('parseForwardRoute', () => {
  it('MASK DOMAIN delivers to MX', () => {
    assert.deepEqual(parseForwardRoute('*@example.org example.com'), {
      mask: '*@example.org',
      target: { kind: 'mx', domain: 'example.com' },
    })
  })

  it('MASK [HOST] uses port 25', () => {
    assert.deepEqual(parseForwardRoute('*@example.net [somehost.example.com]'), {
      mask: '*@example.net',
      target: { kind: 'host', host: 'somehost.example.com', port: 25 },
    })
    assert.deepEqual(parseForwardRoute('* [10.0.0.25]')?.target, { kind: 'host', host: '10.0.0.25', port: 25 })
  })

  it('MASK [HOST:PORT] keeps the port', () => {
    assert.deepEqual(parseForwardRoute('*@example.com [localhost:1025]'), {
      mask: '*@example.com',
      target: { kind: 'host', host: 'localhost', port: 1025 },
    })
    assert.deepEqual(parseForwardRoute('any   [127.0.0.1:2526]')?.target, { kind: 'host', host: '127.0.0.1', port: 2526 })
  })

  it('tolerates spaces in brackets', () => {
    assert.deepEqual(parseForwardRoute('*@example.com [ localhost :1025]')?.target, { kind: 'host', host: 'localhost', port: 1025 })
    assert.deepEqual(parseForwardRoute('*@example.com [ 127.0.0.1 ]')?.target, { kind: 'host', host: '127.0.0.1', port: 25 })
  })

  it('normalises masks', () => {
    assert.equal(parseForwardRoute('any example.com')?.mask, '*@*')
    assert.equal(parseForwardRoute('* example.com')?.mask, '*@*')
    assert.equal(parseForwardRoute('example.com [h]')?.mask, '*@example.com')
    assert.equal(parseForwardRoute('*.example.com [h]')?.mask, '*@*.example.com')
    assert.equal(parseForwardRoute('user?@example.com [h]')?.mask, 'user?@example.com')
  })

  it('rejects malformed routes', () => {
    for (const text of [
      '*@example.com',
      '*@example.com [host:0]',
      '*@example.com [host:65536]',
      '*@example.com [host',
      '*@example.com [bad_host!:25]',
      '*@example.com 10.0.0.1',
      'a@b@c [h]',
      '@example.com [h]',
      '*@example.com []',
    ]) {
      assert.equal(parseForwardRoute(text), null, text)
    }
  })
})

describe('normaliseAddressMask', () => {
  it('maps any and * to *@*', () => {
    assert.equal(normaliseAddressMask('any'), '*@*')
    assert.equal(normaliseAddressMask('ANY'), '*@*')
    assert.equal(normaliseAddressMask('*'), '*@*')
  })

  it('keeps full masks', () => {
    assert.equal(normaliseAddressMask('*@*'), '*@*')
    assert.equal(normaliseAddressMask('help@helpdesk.local'), 'help@helpdesk.local')
  })
})

describe('host name checks', () => {
  it('rejects a mistyped address in brackets', () => {
    assert.equal(parseForwardTarget('[10.0.0.300]'), null)
  })

  it('rejects a numeric last label', () => {
    assert.equal(parseForwardTarget('mail.123'), null)
  })
})
