// Header edits on the raw bytes of a copy: drop fields, set the Subject, append fields. Fields that
// are not edited and the whole body are copied byte for byte, so signatures over untouched parts
// and the body stay valid.

import libmime from 'libmime'

import { readHeaderBlock } from '../mime/headers'
import { detectLineBreakMode, preferredLineBreak } from '../mime/lines'
import type { HeaderLine } from './verdict-headers'

export interface HeaderEdits {
  /** Fields whose (case-insensitive) name returns true are removed. */
  remove?: (name: string) => boolean
  /** New Subject value (ASCII, unfolded); replaces the first Subject or is appended. */
  subject?: string
  /** Fields added at the end of the header block, in order. */
  append?: readonly HeaderLine[]
}

const FOLD_AT = 76

export function editHeaders(raw: Buffer, edits: HeaderEdits): Buffer {
  return Buffer.concat(editHeaderParts(raw, edits))
}

/**
 * Edits the header block and returns the message as two ranges: the new header block, and a view
 * of the body of `raw` (not a copy), so a copy of a large message costs only its header.
 */
export function editHeaderParts(raw: Buffer, edits: HeaderEdits): [Buffer, Buffer] {
  const mode = detectLineBreakMode(raw)
  const lineBreak = preferredLineBreak(raw, mode)
  const block = readHeaderBlock(raw, 0, raw.length, mode)
  const parts: Buffer[] = []
  let position = 0
  let subjectDone = edits.subject === undefined

  for (const field of block.fields) {
    parts.push(raw.subarray(position, field.start))
    position = field.end
    if (field.name === 'subject' && !subjectDone) {
      parts.push(formatField({ name: 'Subject', value: edits.subject as string }, lineBreak))
      subjectDone = true
      continue
    }
    if (edits.remove?.(field.name)) continue
    parts.push(raw.subarray(field.start, field.end))
  }
  parts.push(raw.subarray(position, block.headerEnd))

  // A last header line without a line break would run into the first added field.
  if (block.headerEnd > 0 && raw[block.headerEnd - 1] !== 0x0a && raw[block.headerEnd - 1] !== 0x0d) {
    parts.push(Buffer.from(lineBreak))
  }
  if (!subjectDone) parts.push(formatField({ name: 'Subject', value: edits.subject as string }, lineBreak))
  for (const line of edits.append ?? []) parts.push(formatField(line, lineBreak))
  // A line that is not a field ends the header block, and the scan read it as the first body line.
  // Without an empty line before it, a downstream reader may take the lines after it as header
  // fields, a forged verdict field among them. The empty line makes it read what was scanned.
  if (!block.hasSeparator && block.headerEnd < raw.length) parts.push(Buffer.from(lineBreak))

  return [Buffer.concat(parts), raw.subarray(block.headerEnd)]
}

/**
 * Removes header fields from `raw` without copying the body: the kept fields are moved up against
 * the body inside `raw` itself, and the returned Buffer is a view that starts where they now start.
 * `raw` is changed, so the caller must own it; when no field is removed, `raw` is returned as is.
 */
export function removeHeaderFieldsInPlace(raw: Buffer, remove: (name: string) => boolean): Buffer {
  const block = readHeaderBlock(raw, 0, raw.length, detectLineBreakMode(raw))
  if (!block.fields.some((field) => remove(field.name))) return raw
  const [header] = editHeaderParts(raw.subarray(0, block.headerEnd), { remove })
  const start = block.headerEnd - header.length
  header.copy(raw, start)
  return raw.subarray(start)
}

/** Returns the raw value (unfolded) of the first field with this name, or null. */
export function firstHeaderValue(raw: Buffer, name: string): string | null {
  const block = readHeaderBlock(raw, 0, raw.length, detectLineBreakMode(raw))
  return block.fields.find((field) => field.name === name.toLowerCase())?.value ?? null
}

function formatField(line: HeaderLine, lineBreak: string): Buffer {
  const folded = libmime.foldLines(`${line.name}: ${line.value}`, FOLD_AT).replace(/\r\n/g, lineBreak)
  return Buffer.from(`${folded}${lineBreak}`, 'utf8')
}
