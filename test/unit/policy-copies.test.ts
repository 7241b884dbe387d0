import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'
import { wireChunks, wireLines } from '../../plugins/mailgw_policy/copies'

const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'mime')

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]))
}

describe('wireChunks', () => {
  const cases: Array<[string, Buffer]> = [
    ['dots and bare LF', Buffer.from('Subject: x\n\n.first\nmiddle\r\n.second\r\n..third\nlast without newline')],
    ['no body', Buffer.from('Subject: x\r\n\r\n')],
    ['no empty line', Buffer.from('Subject: x\r\nFrom: y\r\n')],
    ['dot in header', Buffer.from('.Weird: x\r\n\r\nbody\r\n')],
    ...files(FIXTURES).map((f): [string, Buffer] => [path.relative(FIXTURES, f), readFileSync(f)]),
  ]

  for (const [name, content] of cases) {
    it(`same bytes as lines: ${name}`, () => {
      assert.deepEqual(Buffer.concat(wireChunks(content)), Buffer.concat(wireLines(content)))
    })
  }

  it('keeps the body in one chunk', () => {
    const body = Array.from({ length: 1000 }, (_, i) => `line ${i}`).join('\r\n')
    const chunks = wireChunks(Buffer.from(`Subject: x\r\nFrom: y\r\n\r\n${body}\r\n`))
    assert.equal(chunks.length, 4)
    assert.equal(chunks[2].toString(), '\r\n')
  })
})
