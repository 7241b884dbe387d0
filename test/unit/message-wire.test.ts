import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { Writable } from 'node:stream'
import { describe, it } from 'node:test'

import { Address } from '@haraka/email-address'

import { copySource } from '../../plugins/mailgw_policy/copies'
import { wireChunks } from '../../src/message/wire'

const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'mime')

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]))
}

/** Builds the stored form line by line, as Haraka keeps received data: the reference to compare with. */
function storedLines(content: Buffer): Buffer {
  const lines: Buffer[] = []
  let start = 0
  while (start < content.length) {
    const lf = content.indexOf(0x0a, start)
    const end = lf === -1 ? content.length : lf + 1
    let line = content.subarray(start, lf === -1 ? end : lf)
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1)
    lines.push(line[0] === 0x2e ? Buffer.from('.') : Buffer.alloc(0), line, Buffer.from('\r\n'))
    start = end
  }
  return Buffer.concat(lines)
}

/** Cuts a message into ranges at the given offsets, as a copy's header and body views are. */
function cut(content: Buffer, at: number[]): Buffer[] {
  const points = [0, ...at.filter((p) => p > 0 && p < content.length).sort((a, b) => a - b), content.length]
  return points.slice(1).map((end, i) => content.subarray(points[i], end))
}

describe('wireChunks', () => {
  const cases: Array<[string, Buffer]> = [
    ['dots and bare LF', Buffer.from('Subject: x\n\n.first\nmiddle\r\n.second\r\n..third\nlast without newline')],
    ['no body', Buffer.from('Subject: x\r\n\r\n')],
    ['no empty line', Buffer.from('Subject: x\r\nFrom: y\r\n')],
    ['dot in header', Buffer.from('.Weird: x\r\n\r\nbody\r\n')],
    ['bare CR inside a line', Buffer.from('Subject: x\r\n\r\na\rb\r\n.\r\nend\r')],
    ['only dots', Buffer.from('.\r\n..\n.\r\n.')],
    ...files(FIXTURES).map((f): [string, Buffer] => [path.relative(FIXTURES, f), readFileSync(f)]),
  ]

  for (const [name, content] of cases) {
    it(`matches the line-by-line form: ${name}`, () => {
      assert.deepEqual(Buffer.concat([...wireChunks([content])]), storedLines(content))
    })
  }

  it('gives the same bytes whatever the slice size and range cuts', () => {
    const content = Buffer.from('Subject: x\r\n\r\n.a\r\nb\n.c\r\r\n\r\n..d\re\r\n.')
    const expected = storedLines(content)
    for (let slice = 1; slice <= 8; slice++) {
      for (let at = 1; at < content.length; at++) {
        const got = Buffer.concat([...wireChunks(cut(content, [at, at + 3]), slice)])
        assert.deepEqual(got, expected, `slice ${slice}, cut at ${at}`)
      }
    }
  })

  it('passes a clean body on as views', () => {
    const body = Buffer.alloc(14 * 200000, 'line of text\r\n')
    const chunks = [...wireChunks([Buffer.from('Subject: big\r\n\r\n'), body])]
    const bodyChunks = chunks.slice(1)
    assert.equal(bodyChunks.length, 3)
    assert.ok(bodyChunks.every((c) => c.buffer === body.buffer), 'no body byte is copied')
  })

  it('writes a large body in slices', () => {
    const body = Buffer.alloc(3 * 1024 * 1024, 'abcdefghi\r\n.')
    const chunks = [...wireChunks([Buffer.from('Subject: big\r\n\r\n'), body])]
    assert.ok(chunks.length > 10)
    assert.ok(chunks.every((c) => c.length <= 1024 * 1024))
    assert.deepEqual(Buffer.concat(chunks), storedLines(Buffer.concat([Buffer.from('Subject: big\r\n\r\n'), body])))
  })
})

describe('copySource', () => {
  it('writes the copy into a slow destination and ends it', async () => {
    const content = [Buffer.from('Subject: x\r\n\r\n'), Buffer.alloc(2 * 1024 * 1024, 'line\r\n.dot\r\n')]
    const source = copySource('uuid.1', new Address('<a@b.example>'), content, { k: 1 })
    const received: Buffer[] = []
    let largestListenerCount = 0
    const done = new Promise<void>((resolve) => {
      const slow = new Writable({
        highWaterMark: 1024,
        write(this: Writable, chunk: Buffer, _encoding, next) {
          received.push(chunk)
          largestListenerCount = Math.max(largestListenerCount, this.listenerCount('close'))
          setImmediate(next)
        },
      })
      slow.on('finish', () => resolve())
      source.message_stream.pipe(slow, { dot_stuffed: false })
    })
    await done
    assert.ok(largestListenerCount <= 3, `up to ${largestListenerCount} close listeners at once`)
    assert.deepEqual(Buffer.concat(received), storedLines(Buffer.concat(content)))
    assert.equal(JSON.stringify({ uuid: source.uuid, notes: source.notes }), '{"uuid":"uuid.1","notes":{"k":1}}')
  })

  it('refuses a form other than the queue file form', () => {
    const source = copySource('u', new Address('<a@b.example>'), [Buffer.from('x\r\n')], {})
    assert.throws(() => source.message_stream.pipe(new Writable({ write: (_c, _e, n) => n() })), /dot_stuffed: false/)
  })

  it('stops writing when the destination is destroyed', async () => {
    const source = copySource('u', new Address('<a@b.example>'), [Buffer.alloc(4 * 1024 * 1024, 'x\r\n')], {})
    let writes = 0
    const dest = new Writable({
      highWaterMark: 16,
      write(_chunk, _encoding, next) {
        writes++
        setTimeout(next, 5)
      },
    })
    source.message_stream.pipe(dest, { dot_stuffed: false })
    dest.destroy()
    await new Promise((r) => setTimeout(r, 50))
    assert.ok(writes <= 1)
  })
})
