// The parts of a message that the anti-spam checks read, parsed once per message: the header
// lines as received, decoded header values (RFC 2047 encoded words and charsets), the addresses of
// From, To and Cc, the text and HTML bodies, and small attachments (the GTUBE test string may hide
// in one). mailparser does the MIME decoding.

import { simpleParser, type AddressObject, type EmailAddress } from 'mailparser'

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

export async function parseMessageView(raw: Buffer): Promise<MessageView> {
  const parsed = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true })
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
