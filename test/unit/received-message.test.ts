import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { describe, it } from 'node:test'

import { forgetReceivedMessage, receivedMessage, takeReceivedMessage } from '../../plugins/shared/message'
import { removeHeaderFieldsInPlace } from '../../src/pipeline/rewrite'
import { isVerdictHeader } from '../../src/pipeline/verdict-headers'

/** A transaction whose message stream yields `chunks`, counting how often it was read. */
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
