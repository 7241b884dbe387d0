import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { after, describe, it } from 'node:test'

import { forgetReceivedMessage, receivedMessage, takeReceivedMessage } from '../../plugins/shared/message'
import { editHeaderParts, removeHeaderFieldsInPlace } from '../../src/pipeline/rewrite'
import { isVerdictHeader } from '../../src/pipeline/verdict-headers'
import { createHarakaTransaction } from '../helpers/haraka-transaction'

/** Builds a transaction whose message stream yields `chunks` and counts how often it was read. */
function transaction(chunks: Buffer[], bytesRead: number): { txn: Haraka.Transaction; reads: () => number } {
  let reads = 0
  const message_stream = {
    bytes_read: bytesRead,
    pipe(destination: NodeJS.WritableStream) {
      reads++
      Readable.from(chunks).pipe(destination)
      return destination
    },
  }
  return { txn: { message_stream } as unknown as Haraka.Transaction, reads: () => reads }
}

describe('receivedMessage', () => {
  it('reads the stream once and shares the Buffer', async () => {
    const { txn, reads } = transaction([Buffer.from('Subject: a\r\n\r\n'), Buffer.from('body\r\n')], 20)
    const first = await receivedMessage(txn)
    assert.equal(first.toString(), 'Subject: a\r\n\r\nbody\r\n')
    assert.equal(await receivedMessage(txn), first)
    assert.equal(reads(), 1)
    assert.equal(await takeReceivedMessage(txn), first)
    await receivedMessage(txn)
    assert.equal(reads(), 2, 'a taken message is read again on the next call')
  })

  it('grows the buffer when the message is longer than the stored size', async () => {
    const chunks = Array.from({ length: 50 }, (_, i) => Buffer.from(`line ${i} ${'x'.repeat(100)}\r\n`))
    const { txn } = transaction(chunks, 10)
    assert.deepEqual(await receivedMessage(txn), Buffer.concat(chunks))
  })

  it('reads again after forgetReceivedMessage', async () => {
    const { txn, reads } = transaction([Buffer.from('x\r\n')], 3)
    await receivedMessage(txn)
    forgetReceivedMessage(txn)
    await receivedMessage(txn)
    assert.equal(reads(), 2)
  })
})

describe('removeHeaderFieldsInPlace', () => {
  it('returns the Buffer itself when nothing is removed', () => {
    const raw = Buffer.from('Subject: a\r\nFrom: b\r\n\r\nbody\r\n')
    assert.equal(removeHeaderFieldsInPlace(raw, isVerdictHeader), raw)
  })

  it('removes forged verdict fields and keeps the body where it was', () => {
    const raw = Buffer.from('X-SpamTest-Status: Not detected\r\nSubject: a\r\nX-Anti-Virus: forged,\r\n folded\r\nFrom: b\r\n\r\nbody\r\n')
    const bodyAt = raw.indexOf('body')
    const edited = removeHeaderFieldsInPlace(raw, isVerdictHeader)
    assert.equal(edited.toString(), 'Subject: a\r\nFrom: b\r\n\r\nbody\r\n')
    assert.equal(edited.buffer, raw.buffer, 'no new memory for the message')
    assert.equal(edited.byteOffset + edited.indexOf('body'), raw.byteOffset + bodyAt)
  })

  it('handles a message without a body', () => {
    const raw = Buffer.from('X-SpamTest-Rate: 0\r\nSubject: a\r\n')
    assert.equal(removeHeaderFieldsInPlace(raw, isVerdictHeader).toString(), 'Subject: a\r\n')
  })
})

/** Creates a real Haraka transaction fed line by line, spooled to `dir` from `spoolAfter` bytes on. */
async function harakaTransaction(uuid: string, lines: string[], dir: string, spoolAfter: number) {
  const txn = createHarakaTransaction(uuid, dir, spoolAfter)
  for (const line of lines) txn.add_data(Buffer.from(line, 'latin1'))
  await new Promise<void>((resolve) => txn.end_data(() => resolve()))
  return txn
}

function viaStream(txn: Haraka.Transaction): Promise<Buffer> {
  return new Promise((resolve) => txn.message_stream.get_data((b) => resolve(b)))
}

describe('receivedMessage from Haraka', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailgw-received-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  const bodyLine = (i: number): string => {
    if (i % 7 === 0) return `..stuffed ${i}\r\n`
    if (i % 11 === 0) return `bare lf ${i}\n`
    return `.single ${i}\r\n`
  }
  const body = Array.from({ length: 5000 }, (_, i) => bodyLine(i))
  const cases: Array<[string, string[], boolean]> = [
    ['a spooled message', ['Subject: spooled\r\n', 'From: <a@b.example>\r\n', '\r\n', ...body], false],
    ['a spooled message with a changed header', ['Subject: changed\r\n', 'X-Drop: 1\r\n', '\r\n', ...body, 'no line end'], true],
    ['a folded and non-ASCII header', ['Subject: =?utf-8?q?x?=\r\n', ' folded\r\n', 'X-Raw: caf\u00e9\r\n', '\r\n', '..x\r\n'], false],
    ['no empty line', ['Subject: only\r\n', 'From: <a@b.example>\r\n'], false],
    ['a body without a header', ['\r\n', '..body\r\n'], false],
  ]
  for (const [name, lines, change] of cases) {
    for (const spoolAfter of [0, 1024 * 1024]) {
      it(`equals the stream: ${name}, ${spoolAfter === 0 ? 'on disk' : 'in memory'}`, async () => {
        const txn = await harakaTransaction(`${name.replace(/\W/g, '-')}-${spoolAfter}`, lines, dir, spoolAfter)
        if (change) {
          txn.add_header('X-Added', 'yes')
          txn.remove_header('X-Drop')
        }
        const expected = await viaStream(txn)
        const stream = txn.message_stream as unknown as { pipe: (...args: unknown[]) => unknown }
        const pipe = stream.pipe.bind(stream)
        let piped = 0
        stream.pipe = (...args: unknown[]) => {
          piped++
          return pipe(...args)
        }
        assert.deepEqual(await receivedMessage(txn), expected)
        // Without header lines Haraka writes the stored bytes as they are, which the stream does just as well.
        const direct = spoolAfter === 0 && name !== 'a body without a header'
        assert.equal(piped, direct ? 0 : 1, direct ? 'read from the spool file' : 'read through the stream')
        txn.message_stream.destroy()
      })
    }
  }
})

describe('editHeaderParts on a header with a stray line', () => {
  it('ends the header before a line that is not a field', () => {
    const raw = Buffer.from('Subject: a\r\nNotAHeaderLine\r\nX-Anti-Virus: forged clean\r\n\r\nbody\r\n')
    const edited = Buffer.concat(editHeaderParts(raw, { remove: isVerdictHeader, append: [{ name: 'X-Anti-Virus', value: 'ours' }] })).toString()
    assert.equal(edited, 'Subject: a\r\nX-Anti-Virus: ours\r\n\r\nNotAHeaderLine\r\nX-Anti-Virus: forged clean\r\n\r\nbody\r\n')
  })

  it('leaves a header-only message without a separator as it is', () => {
    const raw = Buffer.from('Subject: a\r\nFrom: b\r\n')
    assert.equal(Buffer.concat(editHeaderParts(raw, {})).toString(), 'Subject: a\r\nFrom: b\r\n')
  })
})
