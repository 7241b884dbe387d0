/**
 * Content-Transfer-Encoding: decoding of part bodies for scanning, and encoding of new part bodies.
 *
 * `decodeTransferEncoding` returns instead of throwing. When a body cannot be decoded (invalid base64, an unknown
 * encoding, a gzip stream that fails or grows past the size limit) it returns the raw bytes with an
 * `error` that says why, so the caller can scan the raw bytes or mark the object as not scanned.
 * Quoted-printable is decoded leniently: a stray "=" is kept as is, as mail clients do.
 */
import { gunzipSync } from 'node:zlib';
import * as libqp from 'libqp';
import { findUuencodedBlocks } from './uuencode';

export interface DecodeResult {
  decoded: Buffer;
  error?: string;
  /** Offset in the body where text that is not part of the encoded data starts. */
  trailerOffset?: number;
}

export const IDENTITY_ENCODINGS: ReadonlySet<string> = new Set(['7bit', '8bit', 'binary']);

const UUENCODE_NAMES: ReadonlySet<string> = new Set(['x-uuencode', 'uuencode', 'x-uue', 'uue']);

export function decodeTransferEncoding(body: Buffer, encoding: string, maxDecodedBytes: number): DecodeResult {
  if (isBlank(body)) return { decoded: body };
  if (IDENTITY_ENCODINGS.has(encoding)) return { decoded: body };
  if (encoding === 'base64') return decodeBase64(body);
  if (encoding === 'quoted-printable') return { decoded: libqp.decode(body) };
  if (UUENCODE_NAMES.has(encoding)) return decodeUuencodedBody(body);
  if (encoding === 'x-gzip64') return decodeGzip64(body, maxDecodedBytes);
  return { decoded: body, error: `unknown Content-Transfer-Encoding "${encoding}"; the raw bytes are returned` };
}

/**
 * Decodes base64, ignoring line breaks and blanks. Several padded chunks written one after another
 * are decoded one by one, and a last group of a single character (which carries no whole byte) is
 * ignored. Text that follows complete base64 data after an empty line (a mailing list footer) is
 * not decoded: `trailerOffset` marks where it starts so the caller can scan it on its own. Any
 * other character outside the base64 alphabet makes the whole body undecodable, because clients
 * disagree on how to skip such characters and a scanner must not guess.
 */
export function decodeBase64(body: Buffer): DecodeResult {
  const text = body.toString('latin1');
  const invalid = /[^A-Za-z0-9+/=\s]|[\f\v\u0085\u00a0]/.exec(text);
  if (!invalid) return { decoded: decodeBase64Text(text) };

  const trailerOffset = findTrailerStart(text, invalid.index);
  if (trailerOffset !== null) {
    return { decoded: decodeBase64Text(text.slice(0, trailerOffset)), trailerOffset };
  }
  const code = invalid[0].charCodeAt(0).toString(16).padStart(2, '0');
  return { decoded: body, error: `invalid base64: byte 0x${code} at offset ${invalid.index} of the body` };
}

function decodeBase64Text(text: string): Buffer {
  const compact = text.replace(/\s+/g, '');
  const chunks = compact.split(/(?<==)(?=[^=])/);
  if (chunks.length === 1) return Buffer.from(compact, 'base64');
  return Buffer.concat(chunks.map((chunk) => Buffer.from(chunk, 'base64')));
}

// The trailer must start on a line of its own after at least one empty line, and the base64 data
// before it must be complete (a multiple of four characters), or the body is not plain base64.
// NOTE: a trailer made only of base64 alphabet characters and blanks cannot be told apart from
// data, so it is decoded together with the data.
function findTrailerStart(text: string, invalidIndex: number): number | null {
  const lineStart = text.lastIndexOf('\n', invalidIndex) + 1;
  const before = text.slice(0, lineStart);
  if (!/\n[ \t\r]*\n[ \t\r]*$/.test(before)) return null;
  const data = before.replace(/\s+/g, '');
  if (data.length === 0 || data.length % 4 !== 0) return null;

  // The trailer starts on the line after the last base64 line, so the empty lines belong to it.
  const dataEnd = before.replace(/\s+$/, '').length;
  const lineBreak = /^\r?\n/.exec(before.slice(dataEnd));
  return dataEnd + (lineBreak ? lineBreak[0].length : 0);
}

function decodeUuencodedBody(body: Buffer): DecodeResult {
  const [block] = findUuencodedBlocks(body, 1);
  if (!block) return { decoded: body, error: 'no "begin" line found in the x-uuencode body; the raw bytes are returned' };
  return block.error ? { decoded: block.decoded, error: block.error } : { decoded: block.decoded };
}

function decodeGzip64(body: Buffer, maxDecodedBytes: number): DecodeResult {
  const base64 = decodeBase64(body);
  if (base64.error) return base64;
  try {
    return { decoded: gunzipSync(base64.decoded, { maxOutputLength: maxDecodedBytes }) };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { decoded: body, error: `x-gzip64 body could not be decompressed (limit ${maxDecodedBytes} bytes): ${reason}` };
  }
}

function isBlank(body: Buffer): boolean {
  for (const byte of body) {
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d && byte !== 0x0a) return false;
  }
  return true;
}

/** Encodes `data` as base64 in lines of 76 characters, each followed by `lineBreak`. */
export function encodeBase64Lines(data: Buffer, lineBreak: string): string {
  const encoded = data.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < encoded.length; i += 76) lines.push(encoded.slice(i, i + 76));
  return lines.map((line) => line + lineBreak).join('');
}

/** Encodes `data` as quoted-printable, with soft line breaks, using `lineBreak` between lines. */
export function encodeQuotedPrintable(data: Buffer, lineBreak: string): string {
  const wrapped = libqp.wrap(libqp.encode(data), 76);
  const normalized = wrapped.replace(/\r?\n/g, lineBreak);
  return normalized.endsWith(lineBreak) ? normalized : normalized + lineBreak;
}

/** Encodes `data` back with the named transfer encoding; identity encodings pass through. */
export function encodeTransferEncoding(data: Buffer, encoding: string, lineBreak: string): Buffer {
  if (encoding === 'base64') return Buffer.from(encodeBase64Lines(data, lineBreak), 'latin1');
  if (encoding === 'quoted-printable') return Buffer.from(encodeQuotedPrintable(data, lineBreak), 'latin1');
  return data;
}
