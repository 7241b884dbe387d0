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

  parts.push(raw.subarray(block.headerEnd))
  return Buffer.concat(parts)
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
