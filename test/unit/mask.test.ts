import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { matchAddressMask, matchMask } from '../../src/match/mask'

describe('matchMask', () => {
  const cases: Array<[string, string, boolean]> = [
    ['*@example.com', 'bob@example.com', true],
    ['*@example.com', 'BOB@Example.COM', true],
    ['*@example.com', 'bob@sub.example.com', false],
    ['user?@x.org', 'user1@x.org', true],
    ['user?@x.org', 'user@x.org', false],
    ['user?@x.org', 'user12@x.org', false],
    ['*.example.com', 'mx.example.com', true],
    ['*.example.com', 'example.com', false],
    ['any', 'whatever', true],
    ['*', '', true],
    ['a.b', 'axb', false],
    ['(x)+[y]', '(x)+[y]', true],
  ]
  for (const [mask, value, expected] of cases) {
    it(`${mask} vs ${value || '(empty)'}`, () => assert.equal(matchMask(mask, value), expected))
  }
})

describe('matchAddressMask', () => {
  it('domain mask matches the domain part', () => {
    assert.equal(matchAddressMask('example.com', 'u@example.com'), true)
    assert.equal(matchAddressMask('example.com', 'u@other.com'), false)
    assert.equal(matchAddressMask('*.example.com', 'u@mx.example.com'), true)
  })
  it('address mask matches the whole address', () => {
    assert.equal(matchAddressMask('boss@example.com', 'boss@example.com'), true)
    assert.equal(matchAddressMask('boss@example.com', 'staff@example.com'), false)
  })
  it('null sender matches only masks that allow it', () => {
    assert.equal(matchAddressMask('*@*', ''), false)
    assert.equal(matchAddressMask('*', ''), true)
  })
})
