// Output of `mailgw maila`: the one-line listing of an entry, the total line and the long form of
// --show-id. Dates are RFC 5322 dates in the local time zone of the machine.
// Header fields and metadata come from the senders of stored mail. So the C0 and C1 control
// characters (other than tab) of every output line are escaped as \xHH, and a stored escape
// sequence cannot retitle, clear or otherwise drive the administrator's terminal.

import type { StoredMetadata } from '../store/message-store'

/** One release of an entry by `mailgw maila`, kept in its metadata. */
export interface ReleaseRecord {
  /** ISO 8601 time of the release. */
  at: string
  /** Unix user who ran the command; with sudo, also the user who ran sudo. */
  by: string
  /** True when the message went through the gateway's checks again (--send-id), false for --send-id-without-check. */
  checked: boolean
  to: string[]
  reply: string
}

export type MailaMetadata = StoredMetadata & { released?: ReleaseRecord[] }

/** `ID STATUS SIZE DATE IP <SENDER> -> <RECIPIENT>[, <RECIPIENT>...]` */
export function listLine(entry: StoredMetadata): string {
  const recipients = entry.envelope.to.map((a) => `<${a}>`).join(', ')
  return escapeControls([entry.id, entry.status.join(','), String(entry.size), localDate(entry.arrival), entry.clientIp || '-', `<${entry.envelope.from}>`, '->', recipients].join(' '))
}

export function totalLine(count: number, bytes: number): string {
  return `Total: ${count} archived messages, ${bytes} bytes.`
}

export function showLines(dir: string, entry: MailaMetadata, headerBlock: string): string[] {
  const lines = [
    `ID: ${entry.id}`,
    `Store: ${dir}`,
    `Status: ${entry.status.join(',')}`,
    `Size: ${entry.size} bytes`,
    `Date: ${localDate(entry.arrival)}`,
    `Client: ${entry.clientIp || '-'}`,
    `Sender: <${entry.envelope.from}>`,
    `Recipients: ${entry.envelope.to.map((a) => `<${a}>`).join(', ')}`,
    `Group: ${entry.group || '-'}`,
    `Transaction: ${entry.transaction}${entry.copy > 0 ? ` copy ${entry.copy}` : ''}`,
    ...entry.reasons.map((r) => `Reason: ${r}`),
    ...(entry.released ?? []).map((r) => `Released: ${localDate(r.at)} by ${r.by} ${r.checked ? 'with checks' : 'without checks'} to ${r.to.map((a) => `<${a}>`).join(', ')}: ${r.reply}`),
    '',
    ...headerBlock.split(/\r?\n/),
  ]
  return lines.map(escapeControls)
}

/**
 * Escapes the C0 controls other than tab, DEL and the C1 controls (U+0080 to U+009F) of one
 * output line as `\xHH`, so that stored text cannot send commands to a terminal.
 */
export function escapeControls(line: string): string {
  return line.replace(/(?!\t)\p{Cc}/gu, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

/** Formats an ISO time as `Mon, 12 Dec 2007 15:13:51 +0300` in local time; an unreadable time is printed as it is. */
export function localDate(iso: string): string {
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return iso
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
  const two = (n: number) => String(n).padStart(2, '0')
  const offset = -date.getTimezoneOffset()
  const sign = offset >= 0 ? '+' : '-'
  const zone = `${sign}${two(Math.floor(Math.abs(offset) / 60))}${two(Math.abs(offset) % 60)}`
  return `${days[date.getDay()]}, ${two(date.getDate())} ${months[date.getMonth()]} ${date.getFullYear()} ${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())} ${zone}`
}

/** Returns the header block of a stored message, up to the first empty line. */
export function headerBlockOf(content: Buffer): string {
  const text = content.toString('utf8')
  const end = text.search(/\r?\n\r?\n/)
  return end === -1 ? text : text.slice(0, end)
}
