// The source of one queued copy: what outbound.TODOItem and process_delivery read from a
// transaction (uuid, mail_from, notes, and message_stream.pipe into the queue file), built from
// the copy's content ranges instead of a Haraka transaction. A Haraka transaction would store the
// copy again, in memory or in a spool file. This source writes the views of the ranges straight
// into the queue file and waits for the file stream to drain between chunks, so a copy of a large
// message costs only its header.

import { once } from 'node:events'

import type { MessageContent } from '../../src/message/content'
import { wireChunks } from '../../src/message/wire'

export interface CopySource {
  uuid: string
  mail_from: Haraka.Address
  notes: Record<string, unknown>
  message_stream: CopyStream
}

export function copySource(uuid: string, mailFrom: Haraka.Address, content: MessageContent, notes: Record<string, unknown>): CopySource {
  return { uuid, mail_from: mailFrom, notes, message_stream: new CopyStream(content) }
}

/** The part of Haraka's MessageStream that the outbound queue writer uses. */
export class CopyStream {
  constructor(private readonly content: MessageContent) {}

  /**
   * Writes the copy in Haraka's stored form (CRLF, dot-stuffed) and ends `destination`. Only the
   * form that process_delivery requests (dot_stuffed: false, no headers skipped) is supported.
   */
  pipe<T extends NodeJS.WritableStream>(destination: T, options: { dot_stuffed?: boolean; skip_headers?: boolean } = {}): T {
    if (options.dot_stuffed !== false || options.skip_headers) {
      throw new Error('a queued copy can only be written dot-stuffed with its headers (dot_stuffed: false)')
    }
    void this.writeTo(destination)
    return destination
  }

  private async writeTo(destination: NodeJS.WritableStream): Promise<void> {
    const stream = destination as NodeJS.WritableStream & { destroyed?: boolean }
    for (const chunk of wireChunks(this.content)) {
      if (stream.destroyed) return
      if (!stream.write(chunk)) await drainOrClose(stream)
    }
    if (!stream.destroyed) stream.end()
  }
}

/**
 * Waits for 'drain', or for 'close': process_delivery destroys the file stream on a write error.
 * Both listeners are removed afterwards, so a long copy does not pile them up.
 */
async function drainOrClose(stream: NodeJS.WritableStream): Promise<void> {
  const abort = new AbortController()
  try {
    await Promise.race([once(stream, 'drain', { signal: abort.signal }), once(stream, 'close', { signal: abort.signal })])
  } catch {
    // An 'error' event also ends the wait; process_delivery reports it.
  } finally {
    abort.abort()
  }
}
