// The parts of a message that the anti-spam checks read, parsed once per message: the header
// lines as received, decoded header values (RFC 2047 encoded words and charsets), the addresses of
// From, To and Cc, the text and HTML bodies, and small attachments (the GTUBE test string may hide
// in one). mailparser does the MIME decoding.

import { simpleParser, type AddressObject, type EmailAddress } from 'mailparser'

import { parseMimeTree, walkTree } from '../mime/tree'

export interface HeaderAddress {
  /** Address as written, '' when the header holds only a name or a group without members. */
  address: string
  name: string
  /** True for an empty group such as `undisclosed-recipients:;`. */
  group?: boolean
}

export interface RawHeader {
  /** Lowercased field name. */
  name: string
  /** Unfolded value as received, encoded words not decoded. */
  value: string
}

export interface MessageView {
  headers: RawHeader[]
  /** Decoded Subject, '' when missing. */
  subject: string
  from: HeaderAddress[]
  to: HeaderAddress[]
  cc: HeaderAddress[]
  /** Decoded text of Subject, From, To, Cc, Reply-To and Sender, for script detection. */
  decodedHeaderText: string
  text: string
  html: string
  /** Contents of attachments up to ATTACHMENT_READ_LIMIT bytes each. */
  smallAttachments: Buffer[]
  contentType: string
  size: number
}

/** Attachments larger than this are not read by the content checks. */
const ATTACHMENT_READ_LIMIT = 256 * 1024

/** Number of bytes read from the start of a larger text part. */
export const TEXT_READ_LIMIT = 1024 * 1024

export async function parseMessageView(raw: Buffer): Promise<MessageView> {
  const parsed = await simpleParser(readablePart(raw), { skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true })
  const headers = parsed.headerLines.map((line) => ({ name: line.key, value: unfold(line.line.slice(line.line.indexOf(':') + 1)) }))
  const from = addresses(parsed.from)
  const to = addresses(parsed.to)
  const cc = addresses(parsed.cc)
  const decodedNames = [...from, ...to, ...cc, ...addresses(parsed.replyTo), ...addresses(parsed.headers.get('sender') as AddressObject | undefined)]
    .map((a) => a.name)
    .join(' ')
  const subject = parsed.subject ?? ''
  const contentType = headers.find((h) => h.name === 'content-type')?.value.trim().toLowerCase() ?? 'text/plain'

  return {
    headers,
    subject,
    from,
    to,
    cc,
    decodedHeaderText: `${subject} ${decodedNames}`,
    text: parsed.text ?? '',
    html: typeof parsed.html === 'string' ? parsed.html : '',
    smallAttachments: parsed.attachments.filter((a) => a.size <= ATTACHMENT_READ_LIMIT).map((a) => a.content),
    contentType,
    size: raw.length,
  }
}

/**
 * Returns the part of a message that the checks read. A small message is returned as it is. For a
 * larger one, each attachment above ATTACHMENT_READ_LIMIT gets an empty body, and each text part
 * above TEXT_READ_LIMIT is cut at the first line break after that limit. mailparser keeps every
 * body it decodes in memory, so parsing a large message whole would hold it several times over.
 */
export function readablePart(raw: Buffer): Buffer {
  if (raw.length <= TEXT_READ_LIMIT + ATTACHMENT_READ_LIMIT) return raw
  const tree = parseMimeTree(raw)
  const ranges: Buffer[] = []
  let position = 0
  for (const entity of walkTree(tree.root)) {
    if (entity.content.kind !== 'leaf') continue
    const { bodyStart } = entity.header
    const isText = entity.description.contentType.startsWith('text/')
    const limit = isText ? TEXT_READ_LIMIT : ATTACHMENT_READ_LIMIT
    if (entity.end - bodyStart <= limit) continue
    let cut = bodyStart
    if (isText) {
      const lineEnd = raw.indexOf(0x0a, bodyStart + limit)
      cut = lineEnd === -1 || lineEnd >= entity.end ? entity.end : lineEnd + 1
    }
    ranges.push(raw.subarray(position, cut))
    position = entity.end
  }
  ranges.push(raw.subarray(position))
  return ranges.length === 1 ? raw : Buffer.concat(ranges)
}

export function headerValues(view: MessageView, name: string): string[] {
  const lower = name.toLowerCase()
  return view.headers.filter((h) => h.name === lower).map((h) => h.value.trim())
}

function unfold(value: string): string {
  return value.replace(/\r?\n[ \t]/g, ' ').trim()
}

function addresses(field: AddressObject | AddressObject[] | undefined): HeaderAddress[] {
  if (!field) return []
  const objects = Array.isArray(field) ? field : [field]
  const flat: HeaderAddress[] = []
  const visit = (entry: EmailAddress) => {
    if (entry.group) {
      for (const member of entry.group) visit(member)
      if (entry.group.length === 0) flat.push({ address: '', name: entry.name, group: true })
      return
    }
    flat.push({ address: entry.address ?? '', name: entry.name ?? '' })
  }
  for (const object of objects) for (const entry of object.value) visit(entry)
  return flat
}
