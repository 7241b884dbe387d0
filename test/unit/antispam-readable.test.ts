import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { parseMessageView, readablePart, TEXT_READ_LIMIT } from '../../src/antispam/message-view'

function message(textBytes: number, attachmentBytes: number): Buffer {
  const text = 'spam words here\r\n'.repeat(Math.ceil(textBytes / 17))
  const attachment = Buffer.alloc(attachmentBytes, 7).toString('base64').replace(/.{76}/g, '$&\r\n')
  return Buffer.from(
    [
      'From: <a@outside.example>',
      'To: <b@corp.example>',
      'Subject: big one',
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      text,
      '--b',
      'Content-Type: application/octet-stream; name="a.bin"',
      'Content-Transfer-Encoding: base64',
      '',
      attachment,
      '--b',
      'Content-Type: text/plain',
      '',
      'the last part',
      '--b--',
      '',
    ].join('\r\n'),
    'latin1',
  )
}

describe('readablePart', () => {
  it('keeps a small message as it is', () => {
    const raw = message(1000, 1000)
    assert.equal(readablePart(raw), raw)
  })

  it('drops large attachments and cuts long text', () => {
    const raw = message(3 * 1024 * 1024, 2 * 1024 * 1024)
    const readable = readablePart(raw)
    assert.ok(readable.length < TEXT_READ_LIMIT + 64 * 1024, `readable part is ${readable.length} bytes`)
    const text = readable.toString('latin1')
    assert.match(text, /^Subject: big one\r$/m)
    assert.match(text, /name="a\.bin"/)
    assert.match(text, /the last part/)
    assert.match(text, /--b--/)
  })

  it('gives a view with the original size', async () => {
    const raw = message(3 * 1024 * 1024, 2 * 1024 * 1024)
    const view = await parseMessageView(raw)
    assert.equal(view.size, raw.length)
    assert.equal(view.subject, 'big one')
    assert.ok(view.text.length <= TEXT_READ_LIMIT + 200)
    assert.ok(view.text.startsWith('spam words here'))
    assert.ok(view.smallAttachments.every((a) => a.length === 0), 'the large attachment is not read')
  })
})
