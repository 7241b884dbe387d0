// Converts a message to the form Haraka keeps in its queue files and sends after DATA. Every line
// ends with CRLF: a bare LF becomes CRLF, and a bare CR inside a line stays. A line that starts
// with a dot gets a second dot, and the message ends with a line break. The conversion runs slice
// by slice, so a large message is never turned into one string. State carried between slices
// handles a CRLF or a line-start dot that falls across two slices or two ranges.

import type { MessageContent } from './content'

const DEFAULT_SLICE = 256 * 1024

export function* wireChunks(content: MessageContent, sliceSize = DEFAULT_SLICE): Generator<Buffer> {
  let atLineStart = true
  let heldCr = false
  for (const part of content) {
    for (let offset = 0; offset < part.length; offset += sliceSize) {
      let text = part.toString('latin1', offset, Math.min(part.length, offset + sliceSize))
      if (heldCr) {
        text = `\r${text}`
        heldCr = false
      }
      // A CR at the end of a slice may be the first half of a CRLF in the next one.
      if (text.endsWith('\r')) {
        text = text.slice(0, -1)
        heldCr = true
      }
      if (text.length === 0) continue
      let out = text.replace(/\r?\n/g, '\r\n').replace(/\n\./g, '\n..')
      if (atLineStart && out.startsWith('.')) out = `.${out}`
      atLineStart = out.endsWith('\n')
      yield Buffer.from(out, 'latin1')
    }
  }
  // A message that ends without a line break (or with a bare CR) gets CRLF, as the SMTP data did.
  if (heldCr || !atLineStart) yield Buffer.from('\r\n')
}
