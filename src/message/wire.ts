// Converts a message to the form Haraka keeps in its queue files and sends after DATA. Every line
// ends with CRLF: a bare LF becomes CRLF, and a bare CR inside a line stays. A line that starts
// with a dot gets a second dot, and the message ends with a line break. The output is made of
// views of the input ranges with the few inserted bytes between them, so converting a copy of a
// large message allocates almost nothing. State carried from one range to the next handles a
// CRLF or a line-start dot that falls across two ranges.

import type { MessageContent } from './content'

const LF = 0x0a
const CR = 0x0d
const DOT = 0x2e
const CR_BYTE = Buffer.from('\r')
const DOT_BYTE = Buffer.from('.')

/** Maximum size of a yielded chunk, so a writer can wait for 'drain' between chunks. */
const DEFAULT_MAX_CHUNK = 1024 * 1024

export function* wireChunks(content: MessageContent, maxChunk = DEFAULT_MAX_CHUNK): Generator<Buffer> {
  let atLineStart = true
  let lastByte = -1
  for (const part of content) {
    if (part.length === 0) continue
    let runStart = 0
    let position = 0
    while (position < part.length) {
      if (atLineStart) {
        atLineStart = false
        if (part[position] === DOT) {
          yield* views(part, runStart, position, maxChunk)
          yield DOT_BYTE
          runStart = position
        }
      }
      const lf = part.indexOf(LF, position)
      if (lf === -1) break
      const before = lf > 0 ? part[lf - 1] : lastByte
      if (before !== CR) {
        yield* views(part, runStart, lf, maxChunk)
        yield CR_BYTE
        runStart = lf
      }
      position = lf + 1
      atLineStart = true
    }
    yield* views(part, runStart, part.length, maxChunk)
    lastByte = part[part.length - 1]
  }
  // A message that ends without a line break (or with a bare CR) gets one, as the SMTP data did.
  if (!atLineStart) yield Buffer.from(lastByte === CR ? '\n' : '\r\n')
}

function* views(part: Buffer, start: number, end: number, maxChunk: number): Generator<Buffer> {
  for (let offset = start; offset < end; offset += maxChunk) yield part.subarray(offset, Math.min(end, offset + maxChunk))
}
