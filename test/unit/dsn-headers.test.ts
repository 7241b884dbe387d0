// The header block a DSN returns: whole when it is small, cut at a field boundary with a closing
// field when it is longer than the cap, and unstuffed from the queue file's dot-stuffing.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { capHeaderBlock, MAX_RETURNED_HEADER_BYTES, OMITTED_HEADERS_FIELD } from '../../plugins/mailgw_route/dsn'

function fields(count: number, valueLength: number): string[] {
  return Array.from({ length: count }, (_, i) => `X-Filler-${i}: ${'x'.repeat(valueLength)}`)
}

describe('DSN header cap', () => {
  it('returns a small header block whole', () => {
    const message = 'Subject: hello\r\nX-Folded: one\r\n two\r\n\r\nBody.\r\n'
    assert.equal(capHeaderBlock(message), 'Subject: hello\r\nX-Folded: one\r\n two')
  })

  it('returns a block without a body', () => {
    assert.equal(capHeaderBlock('Subject: only headers\r\n'), 'Subject: only headers')
  })

  it('unstuffs dot-stuffed lines', () => {
    assert.equal(capHeaderBlock('Subject: a\r\nX-Dots: b\r\n..c\r\n\r\nBody\r\n'), 'Subject: a\r\nX-Dots: b\r\n.c')
  })

  it('cuts a long block at a field boundary', () => {
    const block = fields(400, 100).join('\r\n')
    const capped = capHeaderBlock(`${block}\r\n\r\nBody.\r\n`)
    const lines = capped.split('\r\n')

    assert.ok(capped.length <= MAX_RETURNED_HEADER_BYTES + OMITTED_HEADERS_FIELD.length + 2, `${capped.length} bytes`)
    assert.equal(lines.at(-1), OMITTED_HEADERS_FIELD)
    const kept = lines.slice(0, -1)
    assert.deepEqual(kept, fields(kept.length, 100), 'every kept field is whole and in order')
    assert.ok(kept.length >= 140, `${kept.length} fields kept`)
  })

  it('never cuts inside a folded field', () => {
    const folded = Array.from({ length: 300 }, (_, i) => `X-Folded-${i}: start\r\n ${'y'.repeat(60)}\r\n\t${'z'.repeat(60)}`)
    const capped = capHeaderBlock(`${folded.join('\r\n')}\r\n\r\nBody.\r\n`)
    const kept = capped.slice(0, -(OMITTED_HEADERS_FIELD.length + 2))

    assert.ok(capped.endsWith(`\r\n${OMITTED_HEADERS_FIELD}`))
    assert.ok(kept.endsWith(`\t${'z'.repeat(60)}`), 'the last kept field ends with its last folded line')
    assert.equal(kept.split(/\r\n(?![ \t])/).length, kept.split('\r\n').length / 3)
  })

  it('keeps no field longer than the cap', () => {
    const huge = `Subject: ${'s'.repeat(MAX_RETURNED_HEADER_BYTES * 2)}\r\nX-After: 1\r\n\r\nBody.\r\n`
    assert.equal(capHeaderBlock(huge), OMITTED_HEADERS_FIELD)
  })

  it('cuts a block with no end in the bytes read', () => {
    const start = fields(400, 100).join('\r\n').slice(0, MAX_RETURNED_HEADER_BYTES + 4)
    const capped = capHeaderBlock(start)
    assert.equal(capped.split('\r\n').at(-1), OMITTED_HEADERS_FIELD)
    assert.ok(capped.length <= MAX_RETURNED_HEADER_BYTES + OMITTED_HEADERS_FIELD.length + 2)
  })
})
