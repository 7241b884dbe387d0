// Facts about a received message that notifications print: its header fields (unfolded, in
// order, names as written), the decoded Subject and the Message-ID. Read from the message bytes
// as received, before any rewrite by the pipeline.

import libmime from 'libmime'

import { decodeHeaderBytes } from '../mime/headers'

export interface MessageFacts {
  /** Header fields as `Name: value`, unfolded. */
  headers: string[]
  subject: string
  messageId: string
  autoSubmitted: string | null
  size: number
}

export function messageFacts(raw: Buffer): MessageFacts {
  const headers = headerFields(raw)
  const first = (name: string) => {
    const prefix = `${name.toLowerCase()}:`
    const line = headers.find((h) => h.toLowerCase().startsWith(prefix))
    return line === undefined ? null : line.slice(prefix.length).trim()
  }
  return {
    headers,
    subject: decodeWords(first('Subject') ?? ''),
    messageId: first('Message-ID') ?? '',
    autoSubmitted: first('Auto-Submitted'),
    size: raw.length,
  }
}

/** Returns the unfolded header fields of a message, up to the first empty line. */
export function headerFields(raw: Buffer): string[] {
  const end = headerEnd(raw)
  const text = decodeHeaderBytes(raw.subarray(0, end))
  const fields: string[] = []
  for (const line of text.split(/\r?\n/)) {
    if (line === '') continue
    if (/^[ \t]/.test(line) && fields.length > 0) fields[fields.length - 1] += ` ${line.trim()}`
    else fields.push(line)
  }
  return fields
}

function headerEnd(raw: Buffer): number {
  const crlf = raw.indexOf('\r\n\r\n')
  const lf = raw.indexOf('\n\n')
  const ends = [crlf, lf].filter((i) => i >= 0)
  return ends.length === 0 ? raw.length : Math.min(...ends)
}

function decodeWords(value: string): string {
  try {
    return libmime.decodeWords(value)
  } catch {
    return value
  }
}
