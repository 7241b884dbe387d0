/**
 * New MIME parts for replaced and removed objects.
 *
 * `buildContentHeaders` and `buildPart` write the Content-Type (a text type gets charset=utf-8
 * unless it names one), Content-Transfer-Encoding and, with a file name, Content-Disposition
 * header fields. The transfer encoding is chosen so the part survives any relay. Text in US-ASCII
 * with lines of at most 998 bytes is 7bit, other text is quoted-printable, and other types are
 * base64. Message and multipart bodies are written unchanged, because RFC 2046 allows them only
 * identity encodings.
 */
import libmime from 'libmime';
import { encodeBase64Lines, encodeQuotedPrintable } from './transfer-encoding';

export interface ReplacementContent {
  contentType: string;
  filename?: string;
  body: Buffer | string;
  /** Further header fields of the new part, such as Content-Description; values are one line of text. */
  headers?: readonly { name: string; value: string }[];
}

export const DEFAULT_REMOVED_NOTICE = 'This part of the message was removed by the mail gateway.';

export function noticeContent(notice: string): ReplacementContent {
  return { contentType: 'text/plain; charset=utf-8', body: notice };
}

/** Builds the content header lines (without line breaks) and the encoded body, which ends with a line break. */
export function buildContent(content: ReplacementContent, lineBreak: string): { headerLines: string[]; body: Buffer } {
  const data = typeof content.body === 'string' ? Buffer.from(content.body, 'utf8') : content.body;
  const parsed = libmime.parseHeaderValue(sanitizeHeaderText(content.contentType));
  let type = parsed.value.trim().toLowerCase();
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type)) type = 'application/octet-stream';

  const params: Record<string, string> = { ...parsed.params };
  if (type.startsWith('text/') && !params.charset) params.charset = 'utf-8';
  const filename = content.filename ? sanitizeHeaderText(content.filename) : '';
  if (filename) params.name = filename;

  const { encoding, body } = encodeBody(type, data, lineBreak);
  const headerLines = [
    fold(`Content-Type: ${libmime.buildHeaderValue({ value: type, params })}`, lineBreak),
    `Content-Transfer-Encoding: ${encoding}`,
  ];
  if (filename) {
    headerLines.push(fold(`Content-Disposition: ${libmime.buildHeaderValue({ value: 'attachment', params: { filename } })}`, lineBreak));
  }
  for (const header of content.headers ?? []) {
    // The fields above are written once; a second copy would contradict them.
    const name = header.name.trim();
    if (!/^[!-9;-~]+$/.test(name) || /^content-(type|transfer-encoding)$/i.test(name)) continue;
    if (filename && /^content-disposition$/i.test(name)) continue;
    headerLines.push(fold(`${name}: ${sanitizeHeaderText(header.value)}`, lineBreak));
  }
  return { headerLines, body };
}

/** Builds a whole part (header fields, empty line, body); the result does not end with a line break. */
export function buildPart(content: ReplacementContent, lineBreak: string): Buffer {
  const { headerLines, body } = buildContent(content, lineBreak);
  const head = Buffer.from(headerLines.join(lineBreak) + lineBreak + lineBreak, 'utf8');
  return Buffer.concat([head, stripFinalLineBreak(body, lineBreak)]);
}

function encodeBody(type: string, data: Buffer, lineBreak: string): { encoding: string; body: Buffer } {
  if (type.startsWith('message/') || type.startsWith('multipart/')) {
    return { encoding: isSevenBit(data) ? '7bit' : '8bit', body: data };
  }
  if (!type.startsWith('text/')) {
    return { encoding: 'base64', body: Buffer.from(encodeBase64Lines(data, lineBreak), 'latin1') };
  }
  if (isSevenBit(data) && !/\r(?!\n)/.test(data.toString('latin1'))) {
    const text = data.toString('latin1').replace(/\r?\n/g, lineBreak);
    if (text.split(lineBreak).every((line) => line.length <= 998)) {
      return { encoding: '7bit', body: Buffer.from(text.endsWith(lineBreak) ? text : text + lineBreak, 'latin1') };
    }
  }
  return { encoding: 'quoted-printable', body: Buffer.from(encodeQuotedPrintable(data, lineBreak), 'latin1') };
}

function isSevenBit(data: Buffer): boolean {
  for (const byte of data) {
    if (byte === 0 || byte > 0x7f) return false;
  }
  return true;
}

function fold(headerLine: string, lineBreak: string): string {
  return libmime.foldLines(headerLine, 76).replace(/\r\n/g, lineBreak);
}

// A replacement comes from policy code, but a CR or LF in it would start a new header field.
function sanitizeHeaderText(value: string): string {
  return value.replace(/[\r\n\0]+/g, ' ').trim();
}

export function stripFinalLineBreak(data: Buffer, lineBreak: string): Buffer {
  const tail = Buffer.from(lineBreak, 'latin1');
  if (data.length >= tail.length && data.subarray(data.length - tail.length).equals(tail)) {
    return data.subarray(0, data.length - tail.length);
  }
  return data;
}
