// The received message as one Buffer, read once per transaction and shared by the archive and
// policy plugins. A message Haraka spooled to disk is read from its spool file straight into one
// Buffer and unstuffed in place. Haraka's own read path pushes every line through a stream on its
// own, which for a large message costs more in garbage than the message itself. A message held in
// memory is read through the message stream into a Buffer allocated at the stored size up front.

import { promises as fs } from 'node:fs'
import path from 'node:path'
import { Writable } from 'node:stream'

import { storedHeaderEnd, unstuffInPlace } from '../../src/message/stored'

const received = new WeakMap<Haraka.Transaction, Promise<Buffer>>()

/** Returns the message as received (dot-unstuffed, CRLF), reading it on the first call. */
export function receivedMessage(txn: Haraka.Transaction): Promise<Buffer> {
  let pending = received.get(txn)
  if (!pending) {
    pending = readMessage(txn)
    received.set(txn, pending)
  }
  return pending
}

/**
 * Returns the message and removes it from the cache, so the caller owns the Buffer and may change
 * it in place. A later receivedMessage() call reads the message again.
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

interface StoredStream {
  bytes_read?: number
  spooling?: boolean
  /** The header lines Haraka writes in place of the stored header (header_list of txn.header). */
  headers?: string[]
  pipe(destination: NodeJS.WritableStream, options?: Record<string, unknown>): unknown
}

/** Part of the spool file searched for the end of the header; a longer header is read through the stream. */
const STORED_HEADER_LIMIT = 1024 * 1024

async function readMessage(txn: Haraka.Transaction): Promise<Buffer> {
  const stream = txn.message_stream as unknown as StoredStream
  return (await readSpoolFile(txn, stream)) ?? (await pipeMessage(stream))
}

/**
 * Reads a spooled message the way haraka-message-stream's pipe() gives it by default: the header
 * lines of the transaction (which carry any header changes) with CRLF, an empty line, then the
 * stored body without its dot-stuffing. Returns null when the message is not in a complete spool
 * file where that library keeps it, and the caller reads it through the stream instead.
 */
async function readSpoolFile(txn: Haraka.Transaction, stream: StoredStream): Promise<Buffer | null> {
  const headers = stream.headers ?? []
  if (!stream.spooling || headers.length === 0) return null
  const spoolDir = (txn as unknown as { cfg?: { main?: { spool_dir?: string } } }).cfg?.main?.spool_dir ?? '/tmp'
  let handle: fs.FileHandle
  try {
    handle = await fs.open(path.join(spoolDir, `${path.basename(txn.uuid)}.eml`), 'r')
  } catch {
    return null
  }
  try {
    const size = (await handle.stat()).size
    if (size !== stream.bytes_read) return null

    const head = Buffer.allocUnsafe(Math.min(size, STORED_HEADER_LIMIT))
    await readFully(handle, head, 0, head.length, 0)
    const bodyStart = storedHeaderEnd(head)
    if (bodyStart === -1) return null

    const header = Buffer.from(`${headers.map((line) => line.replace(/\r?\n/g, '\r\n')).join('')}\r\n`, 'utf8')
    const message = Buffer.allocUnsafe(header.length + size - bodyStart)
    header.copy(message)
    await readFully(handle, message, header.length, size - bodyStart, bodyStart)
    return message.subarray(0, unstuffInPlace(message, header.length, message.length))
  } finally {
    await handle.close()
  }
}

async function readFully(handle: fs.FileHandle, target: Buffer, offset: number, length: number, position: number): Promise<void> {
  let done = 0
  while (done < length) {
    const { bytesRead } = await handle.read(target, offset + done, length - done, position + done)
    if (bytesRead === 0) throw new Error(`spool file ended ${length - done} bytes early`)
    done += bytesRead
  }
}

function pipeMessage(stream: StoredStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // Unstuffing makes the message shorter than what is stored, but the header lines Haraka writes
    // may be longer than the stored ones, so the buffer is enlarged when needed.
    let buffer = Buffer.allocUnsafe((stream.bytes_read ?? 0) + 64 * 1024)
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
