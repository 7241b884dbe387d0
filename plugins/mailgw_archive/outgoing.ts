// The outgoing side of the archive plugin, called by mailgw_policy once the copies of a message
// are decided and their quarantine entries written, before anything is queued. It returns the
// extra messages to queue with the copies, all or nothing:
//   - the IncomingBcc copy: the message as received, unscanned, with the loop mark, from the
//     Postmaster (so a failed blind copy is reported to the administrator, not to the sender).
//     Its X-SpamTest-* and X-Anti-Virus fields are removed, because the copy was never scanned
//     and a downstream filter that trusts the loop mark must not read a sender's forged verdict;
//   - the notifications that NotifyAdmin, NotifyRecipient and NotifySender ask for, from
//     NotifyFromAddress, each with the loop mark;
// and it writes to OutgoingArchivePath every copy queued for delivery, every blocked copy and every
// notification. `discard` removes those archive entries again when queueing fails.

import { Address } from '@haraka/email-address'

import { archiveMessages, discardArchived, type ArchiveItem, type ArchivedEntry } from '../../src/archive/archive'
import { LOOP_HEADER, loopMarkValue } from '../../src/archive/loop-mark'
import type { MailgwConfig, PolicySettings } from '../../src/config'
import { formatDecision } from '../../src/log/decision'
import { messageFacts, type MessageFacts } from '../../src/notify/message-facts'
import { planNotifications, renderNotification, type NotifyCopy, type NotifyMessage, type RenderedNotification } from '../../src/notify/notifier'
import type { TemplateKey } from '../../src/notify/template-config'
import type { CopyOutcome } from '../../src/pipeline/copy'
import type { QuarantinedEntry } from '../../src/pipeline/quarantine'
import type { MessageContent } from '../../src/message/content'
import { editHeaderParts } from '../../src/pipeline/rewrite'
import { isVerdictHeader } from '../../src/pipeline/verdict-headers'
import { copySource } from '../mailgw_policy/copies'
import { confirmedClientHost } from '../shared/client'
import type { OutboundCopy } from '../mailgw_policy/enqueue'
import { incomingNotes } from './incoming'
import { gatewayLoopKey, templateCache } from './runtime'

export interface DecidedCopy {
  outcome: CopyOutcome
  settings: PolicySettings
}

export interface OutgoingExtras {
  copies: OutboundCopy[]
  archived: ArchivedEntry[]
  /** Removes the outgoing archive entries; for a message that could not be queued after all. */
  discard(): Promise<void>
}

const TEMPLATE_OF: Record<'admin' | 'recipient' | 'sender', TemplateKey> = {
  admin: 'NotifyAdminTemplate',
  recipient: 'NotifyRecipientTemplate',
  sender: 'NotifySenderTemplate',
}

export async function outgoingExtras(
  plugin: Haraka.Plugin,
  connection: Haraka.Connection,
  txn: Haraka.Transaction,
  config: MailgwConfig,
  copies: readonly DecidedCopy[],
  quarantined: readonly QuarantinedEntry[],
  product: string,
  raw: Buffer,
): Promise<OutgoingExtras> {
  const { ownMark } = incomingNotes(txn)
  const extra: OutboundCopy[] = []
  let serial = 0
  const addCopy = (content: MessageContent, mailFrom: string, to: string[], notes: Record<string, unknown>) => {
    const recipients = to.map((a) => new Address(a))
    const sender = new Address(mailFrom === '' ? '<>' : mailFrom)
    extra.push({ transaction: copySource(`${txn.uuid}.x${++serial}`, sender, content, notes), mailFrom: sender, recipients, notes })
  }

  if (config.archive.IncomingBcc.length > 0 && !ownMark) {
    addCopy(blindCopy(config, raw), config.network.Postmaster, config.archive.IncomingBcc, { mailgw_origin: txn.uuid, mailgw_bcc: true })
  }

  const facts = messageFacts(raw)
  const message: NotifyMessage = {
    transaction: txn.uuid,
    mailFrom: txn.mail_from.isNull() ? '' : txn.mail_from.address,
    clientIp: connection.remote.ip,
    clientHost: confirmedClientHost(connection),
    helo: connection.hello.host,
    facts,
    ownMark,
  }
  const notifications: { copy: DecidedCopy; rendered: RenderedNotification }[] = []
  for (const decided of copies) {
    const notifyCopy = toNotifyCopy(decided.outcome, quarantined)
    const { plans, skipped } = planNotifications(message, notifyCopy, decided.settings)
    for (const reason of skipped) connection.loginfo(plugin, `${txn.uuid} copy ${decided.outcome.copy}: ${reason}`)
    for (const plan of plans) {
      const template = templateCache().get(decided.settings, TEMPLATE_OF[plan.kind])
      const rendered = renderNotification(plan, message, notifyCopy, template, decided.settings, {
        hostname: config.network.Hostname,
        configFile: config.file,
        postmaster: config.network.Postmaster,
        version: product,
        now: new Date(),
      }, gatewayLoopKey(config))
      notifications.push({ copy: decided, rendered })
      addCopy([rendered.content], decided.settings.NotifyFromAddress, [plan.to], {
        mailgw_origin: txn.uuid,
        mailgw_notification: plan.kind,
      })
      connection.loginfo(plugin, formatDecision({ id: txn.uuid, verdict: 'info', stage: 'notify', fields: { kind: plan.kind, to: `<${plan.to}>`, reason: plan.reasons, message_id: rendered.messageId } }))
    }
  }

  const archived = config.archive.OutgoingArchivePath
    ? await archiveMessages(config.archive.OutgoingArchivePath, 'outgoing', outgoingItems(message, copies, notifications))
    : []
  return { copies: extra, archived, discard: () => discardArchived(archived) }
}

function outgoingItems(
  message: NotifyMessage,
  copies: readonly DecidedCopy[],
  notifications: readonly { copy: DecidedCopy; rendered: RenderedNotification }[],
): ArchiveItem[] {
  const arrival = new Date().toISOString()
  const base = { clientIp: message.clientIp, arrival, transaction: message.transaction }
  const items: ArchiveItem[] = copies.map(({ outcome }) => ({
    content: outcome.content,
    entry: {
      ...base,
      group: outcome.group,
      envelope: { from: message.mailFrom, to: outcome.recipients },
      reasons: outcome.deliver ? ['queued for delivery'] : [`blocked by ${outcome.actions.block.join(',')}`],
      copy: outcome.copy,
    },
  }))
  for (const { copy, rendered } of notifications) {
    items.push({
      content: rendered.content,
      entry: {
        ...base,
        clientIp: '',
        group: copy.outcome.group,
        envelope: { from: copy.settings.NotifyFromAddress, to: [rendered.plan.to] },
        reasons: [`${rendered.plan.kind} notification about ${rendered.plan.reasons.join(',')}`],
        copy: copy.outcome.copy,
      },
    })
  }
  return items
}

function toNotifyCopy(outcome: CopyOutcome, quarantined: readonly QuarantinedEntry[]): NotifyCopy {
  const objects = outcome.objects ?? []
  return {
    copy: outcome.copy,
    group: outcome.group,
    recipients: outcome.recipients,
    delivered: outcome.deliver,
    statuses: outcome.actions.statuses,
    spam: outcome.spam?.status ?? null,
    objects: objects.map((o) => ({ id: o.id, filename: o.filename, contentType: o.contentType, size: o.size ?? null, status: o.status, detail: o.detail, action: o.action })),
    block: outcome.actions.block,
    notifyAdmin: outcome.actions.notifyAdmin,
    notifyRecipient: outcome.actions.notifyRecipient,
    notifySender: outcome.actions.notifySender,
    quarantineIds: quarantined.filter((q) => q.copy === outcome.copy).map((q) => q.metadata.id),
    changes: outcome.changes,
  }
}

/**
 * Builds the IncomingBcc copy: the received bytes without verdict fields, with the loop mark. The
 * body stays a view of `raw`.
 */
export function blindCopy(config: MailgwConfig, raw: Buffer): MessageContent {
  const facts: MessageFacts = messageFacts(raw)
  const mark = `${LOOP_HEADER}: ${loopMarkValue(gatewayLoopKey(config), config.network.Hostname, facts.messageId)}\r\n`
  return [Buffer.from(mark), ...editHeaderParts(raw, { remove: isVerdictHeader })]
}
