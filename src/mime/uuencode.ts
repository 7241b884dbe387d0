/**
 * uuencoded blocks ("begin 644 name" ... "end") inside text, as old mailers and some malware send
 * attachments. `findUuencodedBlocks` locates and decodes them with byte offsets into the text;
 * `uuencode` writes a block. A block without its "end" line runs to the end of the text and carries
 * an error, so its bytes are still scanned.
 */
import { isUtf8 } from 'node:buffer';
import { detectLineBreakMode, readLine } from './lines';

export interface UuencodedBlock {
  /** Offset of the "begin" line in the text. */
  start: number;
  /** Offset just past the line break of the "end" line, or the end of the text. */
  end: number;
  /** Unix file mode from the "begin" line, as written (octal digits). */
  fileMode: string;
  filename: string;
  decoded: Buffer;
  error?: string;
}

const BEGIN_LINE = /^begin ([0-7]{3,4}) (.*?)[ \t\r]*$/;

/** Finds at most `maxBlocks` uuencoded blocks in `text`. */
export function findUuencodedBlocks(text: Buffer, maxBlocks: number): UuencodedBlock[] {
  const blocks: UuencodedBlock[] = [];
  if (text.indexOf('begin ') === -1) return blocks;

  const mode = detectLineBreakMode(text);
  let position = 0;
  while (position < text.length && blocks.length < maxBlocks) {
    const line = readLine(text, position, text.length, mode);
    position = line.end;
    if (text[line.start] !== 0x62) continue; // 'b'

    const match = BEGIN_LINE.exec(text.subarray(line.start, line.contentEnd).toString('latin1'));
    if (!match || match[2] === '') continue;

    const firstDataLine = readLine(text, line.end, text.length, mode);
    if (!looksLikeUuencodedLine(text.subarray(firstDataLine.start, firstDataLine.contentEnd))) continue;

    const block = decodeBlock(text, line.end, mode);
    const nameBytes = Buffer.from(match[2], 'latin1');
    blocks.push({
      start: line.start,
      end: block.end,
      fileMode: match[1],
      filename: isUtf8(nameBytes) ? nameBytes.toString('utf8') : match[2],
      decoded: block.decoded,
      ...(block.error ? { error: block.error } : {}),
    });
    position = block.end;
  }
  return blocks;
}

function looksLikeUuencodedLine(line: Buffer): boolean {
  const text = line.toString('latin1').trimEnd();
  if (text === '`' || text === 'end') return true;
  if (text.length < 1) return false;
  const count = (text.charCodeAt(0) - 32) & 63;
  if (count === 0) return false;
  const expected = Math.ceil(count / 3) * 4;
  if (text.length - 1 < Math.ceil((count * 4) / 3)) return false;
  if (text.length - 1 > expected + 2) return false;
  return /^[ -`]+$/.test(text);
}

function decodeBlock(text: Buffer, start: number, mode: 'lf' | 'cr'): { end: number; decoded: Buffer; error?: string } {
  const chunks: Buffer[] = [];
  let error: string | undefined;
  let position = start;
  while (position < text.length) {
    const line = readLine(text, position, text.length, mode);
    position = line.end;
    const content = text.subarray(line.start, line.contentEnd).toString('latin1').replace(/[ \t\r]+$/, '');
    if (content === 'end') return { end: line.end, decoded: Buffer.concat(chunks), ...(error ? { error } : {}) };
    if (content === '') continue;

    const decodedLine = decodeLine(content);
    if (decodedLine.error && !error) error = `invalid uuencoded line at offset ${line.start}: ${decodedLine.error}`;
    chunks.push(decodedLine.bytes);
  }
  return { end: text.length, decoded: Buffer.concat(chunks), error: error ?? 'uuencoded block has no "end" line' };
}

function decodeLine(line: string): { bytes: Buffer; error?: string } {
  const count = (line.charCodeAt(0) - 32) & 63;
  const bytes = Buffer.alloc(count);
  let error: string | undefined;
  let written = 0;
  for (let i = 1; written < count; i += 4) {
    const group = [0, 1, 2, 3].map((k) => {
      const code = i + k < line.length ? line.charCodeAt(i + k) : 32;
      if (code < 32 || code > 96) error ??= `character 0x${code.toString(16)} is outside the uuencode alphabet`;
      return (code - 32) & 63;
    });
    const triple = [(group[0] << 2) | (group[1] >> 4), ((group[1] & 15) << 4) | (group[2] >> 2), ((group[2] & 3) << 6) | group[3]];
    for (const byte of triple) {
      if (written < count) bytes[written++] = byte & 0xff;
    }
  }
  if (line.length - 1 < Math.ceil((count * 4) / 3)) error ??= `line declares ${count} bytes but is too short`;
  return error ? { bytes, error } : { bytes };
}

function encodeChar(value: number): string {
  return value === 0 ? '`' : String.fromCharCode(value + 32);
}

/** Writes `data` as a uuencoded block named `filename`, ending with a line break. */
export function uuencode(data: Buffer, filename: string, lineBreak: string, fileMode = '644'): Buffer {
  const safeName = filename.replace(/[\r\n]+/g, ' ');
  const lines = [`begin ${fileMode} ${safeName}`];
  for (let offset = 0; offset < data.length; offset += 45) {
    const chunk = data.subarray(offset, Math.min(offset + 45, data.length));
    let line = encodeChar(chunk.length);
    for (let i = 0; i < chunk.length; i += 3) {
      const b0 = chunk[i];
      const b1 = i + 1 < chunk.length ? chunk[i + 1] : 0;
      const b2 = i + 2 < chunk.length ? chunk[i + 2] : 0;
      line += encodeChar(b0 >> 2) + encodeChar(((b0 & 3) << 4) | (b1 >> 4));
      line += encodeChar(((b1 & 15) << 2) | (b2 >> 6)) + encodeChar(b2 & 63);
    }
    lines.push(line);
  }
  lines.push('`', 'end');
  return Buffer.from(lines.join(lineBreak) + lineBreak, 'utf8');
}
