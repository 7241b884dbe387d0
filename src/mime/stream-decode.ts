/**
 * Chunked Content-Transfer-Encoding decoding, so a large base64 or quoted-printable body is not held
 * decoded, or as one string, in memory.
 *
 * `planChunkedDecode` returns a repeatable source of decoded chunks whose concatenation is byte for
 * byte what `decodeTransferEncoding` returns for the same body, with the same `error` and
 * `trailerOffset`. Base64 and quoted-printable bodies are decoded one input slice at a time.
 * Identity encodings, blank bodies and bodies that cannot be decoded are views of the body and
 * need no decoding. Other encodings (x-uuencode, x-gzip64) are decoded whole: the plan decodes them
 * once to learn the error, and every `chunks()` call decodes them again.
 */
import * as libqp from 'libqp';
import { IDENTITY_ENCODINGS, decodeTransferEncoding } from './transfer-encoding';

/**
 * Input bytes decoded per chunk. A base64 slice yields about 3/4 of this in decoded bytes. Strings
 * and Buffers of this size die young and V8's scavenges free them, but 1 MiB slices left tens of
 * MiB of garbage until the next full GC. Splitting one 51 MiB base64 message grew peak RSS (VmHWM)
 * by about 10 MiB with 64 KiB slices and by 63 MiB with 1 MiB slices (Node 20.20, Linux, one run).
 */
export const DECODE_SLICE_BYTES = 64 * 1024;

export interface ChunkedDecode {
  /** The decoded bytes when they are the body itself (or a part of it), so no decoding is needed. */
  view: Buffer | null;
  /** Yields the decoded bytes in order. Each call decodes again from the start. */
  chunks(): Iterable<Buffer>;
  error?: string;
  /** Offset in the body where text that is not part of the base64 data starts. */
  trailerOffset?: number;
}

export function planChunkedDecode(
  body: Buffer,
  encoding: string,
  maxDecodedBytes: number,
  sliceBytes: number = DECODE_SLICE_BYTES,
): ChunkedDecode {
  if (!Number.isInteger(sliceBytes) || sliceBytes < 4) {
    throw new Error(`invalid decode slice size ${sliceBytes}: expected an integer of at least 4 bytes`);
  }
  if (IDENTITY_ENCODINGS.has(encoding)) return viewOf(body);
  if (encoding === 'base64') return planBase64(body, sliceBytes);
  if (encoding === 'quoted-printable') {
    if (isBlank(body)) return viewOf(body);
    return { view: null, chunks: () => quotedPrintableChunks(body, sliceBytes) };
  }

  const first = decodeTransferEncoding(body, encoding, maxDecodedBytes);
  if (first.decoded === body) return { ...viewOf(body), ...details(first) };
  return { view: null, chunks: () => [decodeTransferEncoding(body, encoding, maxDecodedBytes).decoded], ...details(first) };
}

function viewOf(data: Buffer): ChunkedDecode {
  return { view: data, chunks: () => [data] };
}

function details(result: { error?: string; trailerOffset?: number }): Pick<ChunkedDecode, 'error' | 'trailerOffset'> {
  return {
    ...(result.error !== undefined ? { error: result.error } : {}),
    ...(result.trailerOffset !== undefined ? { trailerOffset: result.trailerOffset } : {}),
  };
}

// Byte classes for the base64 scan. Whitespace is the set that `decodeBase64` skips (space, tab,
// CR, LF). Form feed, vertical tab and every byte above 0x7f are invalid there, and so here.
const INVALID = 0;
const DATA = 1;
const WHITESPACE = 2;
const BASE64_CLASS = new Uint8Array(256);
for (const char of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=') BASE64_CLASS[char.charCodeAt(0)] = DATA;
for (const byte of [0x20, 0x09, 0x0d, 0x0a]) BASE64_CLASS[byte] = WHITESPACE;

interface Base64Scan {
  /** Offset of the first byte outside the base64 alphabet and whitespace, or -1. */
  invalidIndex: number;
  /** Number of data bytes (alphabet and "=") in the whole body, or before the invalid byte. */
  dataBytes: number;
  /** Offset just past the last LF before the invalid byte, or 0. */
  lineStart: number;
  /** Number of data bytes before `lineStart`. */
  dataBytesBeforeLine: number;
  /** Offset just past the last data byte before `lineStart`. */
  dataEndBeforeLine: number;
}

function scanBase64(body: Buffer): Base64Scan {
  let dataBytes = 0;
  let dataEnd = 0;
  let lineStart = 0;
  let dataBytesBeforeLine = 0;
  let dataEndBeforeLine = 0;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i];
    const kind = BASE64_CLASS[byte];
    if (kind === DATA) {
      dataBytes++;
      dataEnd = i + 1;
    } else if (kind === INVALID) {
      return { invalidIndex: i, dataBytes, lineStart, dataBytesBeforeLine, dataEndBeforeLine };
    } else if (byte === 0x0a) {
      lineStart = i + 1;
      dataBytesBeforeLine = dataBytes;
      dataEndBeforeLine = dataEnd;
    }
  }
  return { invalidIndex: -1, dataBytes, lineStart, dataBytesBeforeLine, dataEndBeforeLine };
}

// Follows `decodeBase64` in transfer-encoding.ts case by case: a blank body is returned as is, a
// body with a trailer is decoded up to the trailer, and any other invalid byte returns the raw body.
function planBase64(body: Buffer, sliceBytes: number): ChunkedDecode {
  const scan = scanBase64(body);
  if (scan.invalidIndex < 0) {
    if (scan.dataBytes === 0) return viewOf(body);
    return { view: null, chunks: () => base64Chunks(body, sliceBytes) };
  }

  const trailerOffset = findTrailerStart(body, scan);
  if (trailerOffset !== null) {
    const data = body.subarray(0, trailerOffset);
    return { view: null, chunks: () => base64Chunks(data, sliceBytes), trailerOffset };
  }
  const code = body[scan.invalidIndex].toString(16).padStart(2, '0');
  return { ...viewOf(body), error: `invalid base64: byte 0x${code} at offset ${scan.invalidIndex} of the body` };
}

// The byte version of `findTrailerStart` in transfer-encoding.ts: the trailer starts on a line of
// its own after at least one empty line, and the base64 data before it is a multiple of 4 bytes.
function findTrailerStart(body: Buffer, scan: Base64Scan): number | null {
  if (!endsWithEmptyLine(body, scan.lineStart)) return null;
  if (scan.dataBytesBeforeLine === 0 || scan.dataBytesBeforeLine % 4 !== 0) return null;

  // The trailer starts on the line after the last base64 line, so the empty lines belong to it.
  const dataEnd = scan.dataEndBeforeLine;
  if (body[dataEnd] === 0x0a) return dataEnd + 1;
  if (body[dataEnd] === 0x0d && body[dataEnd + 1] === 0x0a) return dataEnd + 2;
  return dataEnd;
}

// Matches /\n[ \t\r]*\n[ \t\r]*$/ against body[0, end), reading backwards from the end.
function endsWithEmptyLine(body: Buffer, end: number): boolean {
  let i = end - 1;
  for (let newlines = 0; newlines < 2; newlines++) {
    while (i >= 0 && (body[i] === 0x20 || body[i] === 0x09 || body[i] === 0x0d)) i--;
    if (i < 0 || body[i] !== 0x0a) return false;
    i--;
  }
  return true;
}

/**
 * Decodes base64 that contains only alphabet characters, "=" and whitespace, one input slice at a
 * time. `decodeBase64` removes whitespace, cuts the text after each run of "=" that is followed by
 * more data, and decodes each piece on its own. Node's decoder reads each group of 4 characters on
 * its own and stops at "=", so a piece decodes to the same bytes when it is cut at a multiple of 4
 * characters. The last group of a piece stays in `carry` until the "=" run after it is complete.
 */
function* base64Chunks(body: Buffer, sliceBytes: number): Generator<Buffer> {
  let carry = '';
  for (let offset = 0; offset < body.length; offset += sliceBytes) {
    const text = carry + body.toString('latin1', offset, Math.min(body.length, offset + sliceBytes)).replace(/[ \t\r\n]+/g, '');
    const decoded: Buffer[] = [];

    let pieceStart = 0;
    const pieceEnd = /=(?=[^=])/g;
    for (let match = pieceEnd.exec(text); match !== null; match = pieceEnd.exec(text)) {
      decoded.push(Buffer.from(text.slice(pieceStart, match.index + 1), 'base64'));
      pieceStart = match.index + 1;
    }

    // The last piece may go on in the next slice. Its whole groups, except the last one, are decoded now.
    const padding = text.indexOf('=', pieceStart);
    const dataEnd = padding < 0 ? text.length : padding;
    const ready = pieceStart + Math.max(0, Math.floor((dataEnd - pieceStart - 1) / 4) * 4);
    if (ready > pieceStart) decoded.push(Buffer.from(text.slice(pieceStart, ready), 'base64'));
    // Node's decoder stops at the first "=", so a long run of them is cut to keep `carry` short.
    carry = padding < 0 ? text.slice(ready) : text.slice(ready, Math.min(text.length, dataEnd + 4));

    const chunk = decoded.length === 1 ? decoded[0] : Buffer.concat(decoded);
    if (chunk.length > 0) yield chunk;
  }
  if (carry !== '') {
    const last = Buffer.from(carry, 'base64');
    if (last.length > 0) yield last;
  }
}

/**
 * Decodes quoted-printable with libqp one input slice at a time. A slice ends just after a LF, so
 * the trailing whitespace and soft line breaks that libqp removes never span two slices. What can
 * span them is an =XX escape joined by soft line breaks, as in "=4=\r\n1" or "==\r\nb=\r\n0", so
 * a slice ends after a soft line break only when the two bytes before its "=" are plain text.
 * NOTE: a body without such a LF (CR-only line breaks, or soft line breaks after escapes on every
 * line) is decoded as one slice, as a whole.
 */
function* quotedPrintableChunks(body: Buffer, sliceBytes: number): Generator<Buffer> {
  let start = 0;
  while (start < body.length) {
    const end = findSliceEnd(body, start + sliceBytes);
    const chunk = libqp.decode(body.subarray(start, end));
    if (chunk.length > 0) yield chunk;
    start = end;
  }
}

function findSliceEnd(body: Buffer, from: number): number {
  if (from >= body.length) return body.length;
  for (let lf = body.indexOf(0x0a, from - 1); lf >= 0; lf = body.indexOf(0x0a, lf + 1)) {
    if (!maySplitEscape(body, lf)) return lf + 1;
  }
  return body.length;
}

// libqp removes blanks before a line break and then "=" with CRLF or LF, so "= \r\n" and
// "=\r \n" are soft line breaks too. Skipping every CR as well treats a few more lines as soft,
// which only moves the cut to a later LF. Two plain bytes before the "=" cannot start an escape,
// and no removal reaches them, so no escape spans the cut.
function maySplitEscape(body: Buffer, lf: number): boolean {
  let i = lf - 1;
  while (i >= 0 && (body[i] === 0x20 || body[i] === 0x09 || body[i] === 0x0d)) i--;
  if (i < 0 || body[i] !== 0x3d) return false;
  return !(isPlainByte(body[i - 1]) && isPlainByte(body[i - 2]));
}

function isPlainByte(byte: number | undefined): boolean {
  return byte !== undefined && byte !== 0x3d && byte !== 0x20 && byte !== 0x09 && byte !== 0x0d && byte !== 0x0a;
}

function isBlank(body: Buffer): boolean {
  for (const byte of body) {
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d && byte !== 0x0a) return false;
  }
  return true;
}
