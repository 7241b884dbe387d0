// The stored form of a received message as haraka-message-stream keeps it (lines as the client sent
// them, still dot-stuffed) and the two steps that turn it into the message itself: finding where
// the stored header ends, and removing the dot-stuffing. Both work on Buffers in place, so a large
// message can be read from its spool file into one Buffer without per-line copies.

const LF = 0x0a
const CR = 0x0d
const DOT = 0x2e

/**
 * Returns the offset just past the first empty line (CRLF or LF) of `stored`, searching the first
 * `limit` bytes, or -1 when there is none there.
 */
export function storedHeaderEnd(stored: Buffer, limit = stored.length): number {
  const end = Math.min(limit, stored.length)
  let lineStart = 0
  while (lineStart < end) {
    if (stored[lineStart] === LF) return lineStart + 1
    if (stored[lineStart] === CR && stored[lineStart + 1] === LF) return lineStart + 2
    const lf = stored.indexOf(LF, lineStart)
    if (lf === -1 || lf >= end) return -1
    lineStart = lf + 1
  }
  return -1
}

/**
 * Removes SMTP dot-stuffing from `buffer[start, end)` in place: a line that starts with two dots
 * loses the first. Returns the new end of the range.
 */
export function unstuffInPlace(buffer: Buffer, start: number, end: number): number {
  let read = start
  let write = start
  for (;;) {
    // `read` is at the start of a line here.
    if (read + 1 < end && buffer[read] === DOT && buffer[read + 1] === DOT) read++
    const lf = buffer.indexOf(LF, read)
    const lineEnd = lf === -1 || lf >= end ? end : lf + 1
    if (write !== read) buffer.copyWithin(write, read, lineEnd)
    write += lineEnd - read
    read = lineEnd
    if (read >= end) return write
  }
}
