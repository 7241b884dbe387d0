// Delivery status notifications (RFC 3464) written from the dsn template. The message is a
// multipart/report: the rendered template as the readable text part, a message/delivery-status
// part with one block per failed recipient, and the header fields of the original message as
// text/rfc822-headers (the original body is never returned). The template's header fields
// (From, To, Subject, Date, Message-ID, ...) become the header of the whole message.

import { randomBytes } from 'node:crypto'

import { renderTemplate, type Template, type TemplateData } from './template'
import { rfc5322Date } from './notifier'
import type { MessageFacts } from './message-facts'

export interface FailedDelivery {
  address: string
  /** Enhanced status code, such as 5.1.1. */
  status: string
  reason: string
  remoteHost?: string
  /** Reply code of the remote server, when it replied. */
  smtpCode?: number
}

export interface DsnInput {
  hostname: string
  postmaster: string
  notifyFrom: string
  version: string
  now: Date
  /** The envelope sender of the failed message, who receives the DSN. */
  to: string
  transaction: string
  arrival: Date
  failed: readonly FailedDelivery[]
  facts: MessageFacts
  /** Header block of the original message, CRLF line ends, without the empty line. */
  originalHeaders: string
}

export function buildDsn(template: Template, input: DsnInput): { messageId: string; content: Buffer } {
  const messageId = `<${randomBytes(12).toString('hex')}.dsn@${input.hostname}>`
  const rendered = renderTemplate(template, dsnTemplateData(input, messageId))
  const split = rendered.indexOf('\r\n\r\n')
  const headerLines = unfoldedLines(rendered.slice(0, split))
  const textHeaders = headerLines.filter((l) => /^content-(type|transfer-encoding):/i.test(l))
  const topHeaders = headerLines.filter((l) => !/^content-(type|transfer-encoding):/i.test(l) && !/^mime-version:/i.test(l))
  if (!topHeaders.some((l) => /^message-id:/i.test(l))) topHeaders.push(`Message-ID: ${messageId}`)
  const body = rendered.slice(split + 4)

  const boundary = `dsn-${randomBytes(12).toString('hex')}`
  const parts = [
    ...topHeaders,
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    'This is a delivery status notification in MIME format.',
    '',
    `--${boundary}`,
    ...textHeaders,
    '',
    body.replace(/\r\n$/, ''),
    '',
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    '',
    deliveryStatus(input),
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    '',
    input.originalHeaders.replace(/\r?\n/g, '\r\n').replace(/(\r\n)?$/, ''),
    '',
    `--${boundary}--`,
    '',
  ]
  return { messageId, content: Buffer.from(parts.join('\r\n'), 'utf8') }
}

function dsnTemplateData(input: DsnInput, messageId: string): TemplateData {
  return {
    message: {
      HOSTNAME: input.hostname,
      POSTMASTER: input.postmaster,
      NOTIFY_FROM: input.notifyFrom,
      NOTIFY_TO: input.to,
      NOTIFY_MESSAGE_ID: messageId,
      DATE: rfc5322Date(input.now),
      VERSION: input.version,
      QUEUE_ID: input.transaction,
      SENDER_ADDR: input.to,
      RECIPIENTS: input.failed.map((f) => f.address),
      SUBJECT: input.facts.subject,
      MESSAGE_ID: input.facts.messageId,
      MESSAGE_SIZE: String(input.facts.size),
      HEADERS: input.facts.headers,
    },
    failedRecipients: input.failed.map((f) => ({ address: f.address, status: f.status, reason: f.reason, remoteHost: f.remoteHost ?? '' })),
  }
}

/** Formats the message/delivery-status body: per-message fields, then one block per recipient. */
export function deliveryStatus(input: DsnInput): string {
  const lines = [`Reporting-MTA: dns; ${input.hostname}`, `X-Haraka-Mailgw-Queue-ID: ${oneLine(input.transaction)}`, `Arrival-Date: ${rfc5322Date(input.arrival)}`, '']
  for (const f of input.failed) {
    lines.push(`Final-Recipient: rfc822; ${oneLine(f.address)}`, 'Action: failed', `Status: ${/^[245]\.\d{1,3}\.\d{1,3}$/.test(f.status) ? f.status : '5.0.0'}`)
    if (f.remoteHost) lines.push(`Remote-MTA: dns; ${oneLine(f.remoteHost)}`)
    if (f.smtpCode) lines.push(`Diagnostic-Code: smtp; ${f.smtpCode} ${oneLine(f.reason)}`)
    lines.push(`Last-Attempt-Date: ${rfc5322Date(input.now)}`, '')
  }
  return lines.join('\r\n')
}

function oneLine(value: string): string {
  return value.replace(/[\r\n]+/g, ' ').slice(0, 900)
}

function unfoldedLines(block: string): string[] {
  const lines: string[] = []
  for (const line of block.split('\r\n')) {
    if (/^[ \t]/.test(line) && lines.length > 0) lines[lines.length - 1] += `\r\n${line}`
    else lines.push(line)
  }
  return lines
}
