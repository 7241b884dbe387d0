/**
 * Line scanning over raw message bytes.
 *
 * A line ends at LF, and a CR right before that LF belongs to the line break, so CRLF and bare-LF
 * messages read the same. A message that contains CR but no LF at all (old Mac line endings) is read
 * with bare CR as the line break instead. Offsets are byte offsets into the original buffer.
 */

export type LineBreakMode = 'lf' | 'cr';

export interface Line {
  /** Offset of the first byte of the line. */
  start: number;
  /** Offset just past the line content, before the line break. */
  contentEnd: number;
  /** Offset just past the line break (equals contentEnd on a last line without one). */
  end: number;
}

const LF = 0x0a;
const CR = 0x0d;

export function detectLineBreakMode(raw: Buffer): LineBreakMode {
  if (raw.indexOf(LF) === -1 && raw.indexOf(CR) !== -1) return 'cr';
  return 'lf';
}

/** Returns the line break that new content written into this message should use. */
export function preferredLineBreak(raw: Buffer, mode: LineBreakMode): string {
  if (mode === 'cr') return '\r';
  const firstLf = raw.indexOf(LF);
  if (firstLf > 0 && raw[firstLf - 1] === CR) return '\r\n';
  if (firstLf === -1) return '\r\n';
  return '\n';
}

/** Reads the line that starts at `start`, never looking past `limit`. */
export function readLine(raw: Buffer, start: number, limit: number, mode: LineBreakMode): Line {
  const breakByte = mode === 'cr' ? CR : LF;
  let breakAt = raw.indexOf(breakByte, start);
  if (breakAt === -1 || breakAt >= limit) {
    return { start, contentEnd: limit, end: limit };
  }
  let contentEnd = breakAt;
  if (mode === 'lf' && breakAt > start && raw[breakAt - 1] === CR) contentEnd = breakAt - 1;
  breakAt += 1;
  return { start, contentEnd, end: breakAt };
}

/**
 * Returns the offset where the line break that ends right at `lineStart` begins, or `lineStart`
 * itself when no line break precedes it within `floor`. RFC 2046 assigns that line break to the
 * boundary delimiter that follows it, not to the part before.
 */
export function lineBreakStartBefore(raw: Buffer, lineStart: number, floor: number, mode: LineBreakMode): number {
  if (lineStart <= floor) return lineStart;
  const last = raw[lineStart - 1];
  if (mode === 'cr') return last === CR ? lineStart - 1 : lineStart;
  if (last !== LF) return lineStart;
  if (lineStart - 2 >= floor && raw[lineStart - 2] === CR) return lineStart - 2;
  return lineStart - 1;
}

/** Tells whether a line is empty; stray CRs count as empty because some mailers write CRCRLF. */
export function isBlankLine(raw: Buffer, line: Line): boolean {
  for (let i = line.start; i < line.contentEnd; i++) {
    if (raw[i] !== CR) return false;
  }
  return true;
}
