// The gateway's own DSN: when Haraka's outbound queue gives up on recipients, the bounce hook
// renders the dsn template of the message's group (src/notify/dsn.ts), queues it from the null
// sender to the envelope sender with outbound.send_email, keeps a copy in the outgoing archive,
// and returns OK, which stops Haraka from sending its own DSN. When anything here fails the hook
// returns CONT, and Haraka sends its DSN from outbound.bounce_message instead, so the sender is
// told either way. Mail from the null sender gets no DSN (Haraka logs a double bounce).

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

/** Most header bytes read from a queue file for the DSN. */
const MAX_HEADER_BYTES = 256 * 1024

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
      facts: messageFacts(Buffer.from(`${headers}\r\n\r\n`)),
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

/** Reads the header block of the queued message (Haraka's queue file holds it after the TODO record). */
async function originalHeaders(hmail: Haraka.HMailItem): Promise<string> {
  const start = (hmail as unknown as { data_start: number }).data_start
  const handle = await fs.open(hmail.path, 'r')
  try {
    const buffer = Buffer.alloc(MAX_HEADER_BYTES)
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start)
    const text = buffer.subarray(0, bytesRead).toString('latin1')
    const end = text.search(/\r?\n\r?\n/)
    return (end === -1 ? text : text.slice(0, end)).replace(/^\.\./gm, '.')
  } finally {
    await handle.close()
  }
}
