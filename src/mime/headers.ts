/**
 * Header blocks of MIME entities, read from raw bytes with exact offsets.
 *
 * `readHeaderBlock` splits a header block into fields and finds where the body starts. Malformed input
 * does not make it throw. A line that is neither a header field nor a folded continuation ends the
 * header block, and the body starts at that line, because some mailers omit the empty separator line. `describeContent` reads the MIME
 * header fields (Content-Type, Content-Disposition, Content-Transfer-Encoding) with RFC 2231
 * parameter continuations and charsets and RFC 2047 encoded words in file names.
 */
import { isUtf8 } from 'node:buffer';
import libmime from 'libmime';
import { type LineBreakMode, isBlankLine, readLine } from './lines';

export interface HeaderField {
  /** Lowercased field name. */
  name: string;
  /** Unfolded value; bytes that are not valid UTF-8 are read as Latin-1. */
  value: string;
  /** Offset of the first byte of the field name. */
  start: number;
  /** Offset just past the line break of the field's last line. */
  end: number;
}

export interface HeaderBlock {
  fields: HeaderField[];
  /** Offset just past the last header line, where the separator line (if any) starts. */
  headerEnd: number;
  /** Offset of the first body byte. */
  bodyStart: number;
  /** False when the body started without an empty separator line. */
  hasSeparator: boolean;
}

export interface ContentDescription {
  /** Lowercased `type/subtype` as declared, or the default type when Content-Type is missing. */
  contentType: string;
  /** Content-Type parameters with lowercased names, RFC 2231 and RFC 2047 decoded. */
  params: Record<string, string>;
  charset: string | null;
  /** Lowercased disposition type (`attachment`, `inline`), or null without Content-Disposition. */
  disposition: string | null;
  filename: string | null;
  /** Lowercased Content-Transfer-Encoding, `7bit` when missing or empty. */
  transferEncoding: string;
}

// A field name is printable US-ASCII without colon; RFC 5322 obsolete syntax allows blanks before the colon.
const FIELD_NAME = /^([!-9;-~]+)[ \t]*:/;

/**
 * Reads the header block that starts at `start`. With `skipMboxFromLine`, a first line starting
 * with "From " (an mbox separator) is kept inside the header block but produces no field.
 */
export function readHeaderBlock(
  raw: Buffer,
  start: number,
  limit: number,
  mode: LineBreakMode,
  skipMboxFromLine = false,
): HeaderBlock {
  const fields: HeaderField[] = [];
  let position = start;
  let current: { start: number; nameEnd: number; end: number; name: string } | null = null;

  const finishField = (): void => {
    if (!current) return;
    fields.push({
      name: current.name,
      value: unfold(decodeHeaderBytes(raw.subarray(current.nameEnd, current.end))),
      start: current.start,
      end: current.end,
    });
    current = null;
  };

  if (skipMboxFromLine && raw.subarray(start, Math.min(start + 5, limit)).toString('latin1') === 'From ') {
    position = readLine(raw, start, limit, mode).end;
  }

  while (position < limit) {
    const line = readLine(raw, position, limit, mode);

    if (isBlankLine(raw, line)) {
      finishField();
      return { fields, headerEnd: line.start, bodyStart: line.end, hasSeparator: true };
    }

    const first = raw[line.start];
    if ((first === 0x20 || first === 0x09) && current) {
      current.end = line.end;
      position = line.end;
      continue;
    }

    // Only the first 200 bytes matter for the field name test; long lines stay cheap.
    const head = raw.subarray(line.start, Math.min(line.contentEnd, line.start + 200)).toString('latin1');
    const match = FIELD_NAME.exec(head);
    if (!match) {
      finishField();
      return { fields, headerEnd: line.start, bodyStart: line.start, hasSeparator: false };
    }

    finishField();
    current = {
      start: line.start,
      nameEnd: line.start + Buffer.byteLength(match[0], 'latin1'),
      end: line.end,
      name: match[1].toLowerCase(),
    };
    position = line.end;
  }

  finishField();
  return { fields, headerEnd: limit, bodyStart: limit, hasSeparator: false };
}

export function firstField(block: HeaderBlock, name: string): HeaderField | undefined {
  return block.fields.find((field) => field.name === name);
}

/** Reads the MIME header fields of an entity; `defaultType` applies when Content-Type is missing. */
export function describeContent(block: HeaderBlock, defaultType: string): ContentDescription {
  const typeField = firstField(block, 'content-type');
  const dispositionField = firstField(block, 'content-disposition');
  const encodingField = firstField(block, 'content-transfer-encoding');

  let contentType = defaultType;
  let params: Record<string, string> = {};
  if (typeField && typeField.value.trim() !== '') {
    const parsed = parseParameterizedValue(insertMissingSemicolon(typeField.value));
    contentType = parsed.value || defaultType;
    params = parsed.params;
  }

  let disposition: string | null = null;
  let dispositionParams: Record<string, string> = {};
  if (dispositionField && dispositionField.value.trim() !== '') {
    const parsed = parseParameterizedValue(dispositionField.value);
    disposition = parsed.value || null;
    dispositionParams = parsed.params;
  }

  const filename = cleanFilename(dispositionParams.filename) ?? cleanFilename(params.name);
  const transferEncoding = encodingField ? parseTransferEncoding(encodingField.value) : '7bit';

  return {
    contentType,
    params,
    charset: params.charset ? params.charset.trim().toLowerCase() || null : null,
    disposition,
    filename,
    transferEncoding,
  };
}

function parseParameterizedValue(value: string): { value: string; params: Record<string, string> } {
  const parsed = libmime.parseHeaderValue(value, { stripComments: true });
  const alreadyDecoded = new Set(parsed.decodedParams ?? []);
  const params: Record<string, string> = {};
  for (const [key, paramValue] of Object.entries(parsed.params)) {
    if (typeof paramValue !== 'string') continue;
    params[key] = alreadyDecoded.has(key) ? paramValue : decodeWordsSafely(paramValue);
  }
  return { value: parsed.value.trim().toLowerCase(), params };
}

// "multipart/mixed boundary=x" (a missing ";" before a folded parameter) is common enough in the
// wild that the parameter should still be found.
function insertMissingSemicolon(value: string): string {
  return value.replace(/^(\s*[^\s;/]+\/[^\s;]+)\s+(?=[A-Za-z0-9*_-]+\s*=)/, '$1; ');
}

function parseTransferEncoding(value: string): string {
  const token = value.replace(/\([^)]*\)/g, ' ').trim().split(/[\s;]+/)[0] ?? '';
  return token.toLowerCase() || '7bit';
}

function cleanFilename(value: string | undefined): string | null {
  if (value === undefined) return null;
  const cleaned = value.replace(/[\r\n]+/g, '').trim();
  return cleaned === '' ? null : cleaned;
}

function decodeWordsSafely(value: string): string {
  try {
    return libmime.decodeWords(value);
  } catch {
    return value;
  }
}

/** Decodes header bytes as UTF-8 when they are valid UTF-8 and as Latin-1 otherwise, so no byte is lost. */
export function decodeHeaderBytes(bytes: Buffer): string {
  return isUtf8(bytes) ? bytes.toString('utf8') : bytes.toString('latin1');
}

function unfold(value: string): string {
  return value.replace(/\r?\n|\r/g, '').trim();
}
