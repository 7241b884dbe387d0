// The received message as one Buffer, read from Haraka's message stream once per transaction and
// shared by the archive and policy plugins. The Buffer is allocated at the stored size up front
// and filled chunk by chunk, so reading a message costs its size once: get_data() would hold the
// chunks and their concatenation at the same time.

import { Writable } from 'node:stream'

const received = new WeakMap<Haraka.Transaction, Promise<Buffer>>()

/** Returns the message as received (dot-unstuffed, CRLF), reading it on the first call. */
export function receivedMessage(txn: Haraka.Transaction): Promise<Buffer> {
  let pending = received.get(txn)
  if (!pending) {
    pending = readMessage(txn.message_stream)
    received.set(txn, pending)
  }
  return pending
}

/**
 * Returns the message and forgets it, so the caller owns the Buffer and may change it in place;
 * a later receivedMessage() call reads the stream again.
 */
export async function takeReceivedMessage(txn: Haraka.Transaction): Promise<Buffer> {
  const message = await receivedMessage(txn)
  received.delete(txn)
  return message
}

/** Drops a message read before the transaction's header was changed, so the next call reads it again. */
export function forgetReceivedMessage(txn: Haraka.Transaction): void {
  received.delete(txn)
}

interface PipeSource {
  bytes_read?: number
  pipe(destination: NodeJS.WritableStream, options?: Record<string, unknown>): unknown
}

function readMessage(stream: PipeSource): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // Unstuffing makes the message shorter than what is stored; a line stored with a bare LF gets
    // CRLF back, the one case where it grows, and the buffer is then enlarged.
    let buffer = Buffer.allocUnsafe(Math.max(stream.bytes_read ?? 0, 1024))
    let length = 0
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        if (length + chunk.length > buffer.length) {
          const larger = Buffer.allocUnsafe(Math.max(buffer.length * 2, length + chunk.length))
          buffer.copy(larger, 0, 0, length)
          buffer = larger
        }
        chunk.copy(buffer, length)
        length += chunk.length
        done()
      },
      final(done) {
        resolve(buffer.subarray(0, length))
        done()
      },
    })
    sink.on('error', reject)
    stream.pipe(sink)
  })
}
