// The gateway's own DSN: when Haraka's outbound queue gives up on recipients, the bounce hook
// renders the dsn template of the message's group (src/notify/dsn.ts), queues it from the null
// sender to the envelope sender with outbound.send_email, keeps a copy in the outgoing archive,
// and returns OK, which stops Haraka from sending its own DSN. When anything here fails the hook
// returns CONT, and Haraka sends its DSN from outbound.bounce_message instead, so the sender is
// told either way. Mail from the null sender gets no DSN (Haraka logs a double bounce).
// The envelope sender of a bounce is often forged, so a DSN must not reflect much of what the
// forger wrote. It returns at most the first 16 KB of the original header block, and only in its
// text/rfc822-headers part, because the text part gets no HEADERS values.

import { promises as fs } from 'node:fs'
import { readFileSync } from 'node:fs'
import path from 'node:path'

import { archiveMessages } from '../../src/archive/archive'
import { packageRoot } from '../../src/cli/paths'
import type { MailgwConfig, PolicySettings } from '../../src/config'
import { formatDecision } from '../../src/log/decision'
import { buildDsn, type FailedDelivery } from '../../src/notify/dsn'
import { messageFacts } from '../../src/notify/message-facts'
import { TemplateCache } from '../../src/notify/template-config'
import { constants } from '../shared/plugin'
import { gatewayConfig } from '../shared/runtime'

const PRODUCT = `haraka-mailgw ${(JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version}`

/** Maximum size in bytes of the original header block that a DSN returns. */
export const MAX_RETURNED_HEADER_BYTES = 16 * 1024

/** Field that ends a header block cut at MAX_RETURNED_HEADER_BYTES, in place of the fields left out. */
export const OMITTED_HEADERS_FIELD = `X-Mailgw-Omitted: the header fields after the first ${MAX_RETURNED_HEADER_BYTES} bytes were left out`

interface DsnAddress extends Haraka.Address {
  reason?: string
  dsn_status?: string
  dsn_smtp_code?: number
  dsn_smtp_response?: string
  dsn_remote_mta?: string
}

interface BounceError extends Error {
  bounced_rcpt?: DsnAddress[]
}

interface Outbound {
  send_email(from: string, to: string, contents: string, next: (code: number, msg: string) => void, options: Record<string, unknown>): void
}

const templates = new TemplateCache()

/** Sends our DSN for a bounced queue item; returns the hook code (OK: sent, CONT: let Haraka send its own). */
export async function sendOwnDsn(plugin: Haraka.Plugin, hmail: Haraka.HMailItem, err: unknown): Promise<number> {
  const todo = hmail.todo
  if (todo.mail_from.isNull()) return constants.cont

  try {
    const config = gatewayConfig()
    const settings = groupSettings(config, todo.notes?.mailgw_copy)
    const headers = await originalHeaders(hmail)
    const facts = messageFacts(Buffer.from(`${headers}\r\n\r\n`))
    const bounced = (err as BounceError).bounced_rcpt
    const failed = (bounced && bounced.length > 0 ? bounced : (todo.rcpt_to as DsnAddress[])).map((r) => failedDelivery(r, err))
    const dsn = buildDsn(templates.get(settings, 'DsnTemplate'), {
      hostname: config.network.Hostname,
      postmaster: config.network.Postmaster,
      notifyFrom: settings.NotifyFromAddress,
      version: PRODUCT,
      now: new Date(),
      to: todo.mail_from.address,
      transaction: todo.uuid,
      arrival: new Date(todo.queue_time),
      failed,
      // The header fields are returned once, in the text/rfc822-headers part.
      facts: { ...facts, headers: [] },
      originalHeaders: headers,
    })

    if (config.archive.OutgoingArchivePath) {
      await archiveMessages(config.archive.OutgoingArchivePath, 'outgoing', [
        {
          content: dsn.content,
          entry: {
            group: typeof (todo.notes?.mailgw_copy as { group?: unknown } | undefined)?.group === 'string' ? String((todo.notes.mailgw_copy as { group: string }).group) : '',
            envelope: { from: '', to: [todo.mail_from.address] },
            clientIp: '',
            arrival: new Date().toISOString(),
            reasons: [`delivery status notification for ${todo.uuid}`],
            transaction: todo.uuid,
            copy: 0,
          },
        },
      ]).catch((e: unknown) => hmail.logerror(plugin, `outgoing archive write of the DSN for ${todo.uuid} failed: ${(e as Error).message}`))
    }

    await queueDsn(plugin, todo.mail_from.address, dsn.content.toString('utf8'), todo.uuid)
    hmail.loginfo(plugin, formatDecision({ id: todo.uuid, verdict: 'info', stage: 'dsn', fields: { to: `<${todo.mail_from.address}>`, message_id: dsn.messageId, failed: failed.map((f) => f.address) } }))
    return constants.ok
  } catch (e) {
    hmail.logerror(plugin, `DSN from the dsn template failed for ${todo.uuid}, Haraka sends its own: ${(e as Error).stack ?? String(e)}`)
    return constants.cont
  }
}

function queueDsn(plugin: Haraka.Plugin, to: string, content: string, origin: string): Promise<void> {
  const outbound = plugin.haraka_require('outbound') as Outbound
  return new Promise((resolve, reject) => {
    outbound.send_email('<>', to, content, (code, msg) => (code === constants.ok ? resolve() : reject(new Error(`queueing the DSN failed: ${msg}`))), {
      notes: { mailgw_origin: origin, mailgw_dsn: true },
      origin: plugin,
    })
  })
}

function failedDelivery(rcpt: DsnAddress, err: unknown): FailedDelivery {
  const reason = rcpt.dsn_smtp_response ?? rcpt.reason ?? (err instanceof Error ? err.message : String(err))
  return {
    address: rcpt.address,
    status: rcpt.dsn_status ?? (rcpt.dsn_smtp_code && rcpt.dsn_smtp_code >= 500 ? '5.0.0' : '4.4.7'),
    reason,
    remoteHost: rcpt.dsn_remote_mta,
    smtpCode: rcpt.dsn_smtp_code,
  }
}

function groupSettings(config: MailgwConfig, copy: unknown): PolicySettings {
  const group = (copy as { group?: unknown } | undefined)?.group
  return config.groups.find((g) => g.name === group)?.settings ?? config.policy
}

/** Reads the header block of the queued message (Haraka's queue file holds it after the TODO record), capped. */
async function originalHeaders(hmail: Haraka.HMailItem): Promise<string> {
  const start = (hmail as unknown as { data_start: number }).data_start
  const handle = await fs.open(hmail.path, 'r')
  try {
    // The extra bytes show whether the block ends right after the cap.
    const buffer = Buffer.alloc(MAX_RETURNED_HEADER_BYTES + 4)
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start)
    return capHeaderBlock(buffer.subarray(0, bytesRead).toString('latin1'))
  } finally {
    await handle.close()
  }
}

/**
 * Returns the header block at the start of `text` (a message, or the first bytes of one) without
 * the empty line after it. A block longer than MAX_RETURNED_HEADER_BYTES is cut before the first
 * field that does not fit whole, and OMITTED_HEADERS_FIELD takes the place of the rest. Lines
 * that Haraka's queue file dot-stuffed are unstuffed. Line breaks stay as they are in `text`.
 */
export function capHeaderBlock(text: string): string {
  const unstuffed = text.replace(/^\.\./gm, '.')
  const end = unstuffed.search(/\r?\n\r?\n/)
  if (end !== -1 && end <= MAX_RETURNED_HEADER_BYTES) return unstuffed.slice(0, end)
  if (end === -1 && unstuffed.length <= MAX_RETURNED_HEADER_BYTES) return unstuffed.replace(/\r?\n$/, '')

  // A field starts after a line break that is not followed by a space or tab (a folded line).
  // The text goes on past the cap, so the look-ahead can check the character after each break.
  let cut = 0
  for (const match of unstuffed.matchAll(/\r?\n(?![ \t])/g)) {
    if (match.index > MAX_RETURNED_HEADER_BYTES) break
    cut = match.index
  }
  const kept = unstuffed.slice(0, cut)
  return kept === '' ? OMITTED_HEADERS_FIELD : `${kept}\r\n${OMITTED_HEADERS_FIELD}`
}
