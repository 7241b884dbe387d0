import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Address } from '@haraka/email-address'
import { recipientProblem } from '../../src/access/canonical'

function check(address: string, smtputf8 = true) {
  const a = new Address(`<${address}>`)
  return recipientProblem({ user: a.user, host: a.host, originalHost: a.original_host ?? a.host }, smtputf8)
}

describe('recipientProblem', () => {
  it('accepts plain ASCII in any case', () => {
    assert.equal(check('ceo@corp.example', false), null)
    assert.equal(check('Ceo@CORP.Example', false), null)
  })

  it('rejects full-width letters', () => {
    assert.equal(check('ceo@ｃｏｒｐ.example'), 'non-canonical-domain')
  })

  it('rejects ideographic full stops', () => {
    assert.equal(check('ceo@corp。example'), 'non-canonical-domain')
    assert.equal(check('ceo@corp．example'), 'non-canonical-domain')
  })

  it('accepts an IDN with SMTPUTF8', () => {
    assert.equal(check('x@bücher.example'), null)
    assert.equal(check('x@xn--bcher-kva.example', false), null)
  })

  it('requires SMTPUTF8 for 8-bit addresses', () => {
    assert.equal(check('x@bücher.example', false), 'needs-smtputf8')
    assert.equal(check('ceo@ｃｏｒｐ.example', false), 'needs-smtputf8')
  })
})
