// Decides which notifications a processed message copy gets and renders them from templates.
// Pure logic: the Haraka plugin supplies the facts and queues what this returns.
//
// Rules, checked in this order:
//   - a message that carries this gateway's own loop mark (a notification or blind copy coming
//     back) gets no notification at all;
//   - NotifyAdmin statuses send one message to AdminNotifyAddress;
//   - NotifyRecipient statuses send one message to each recipient of the copy;
//   - NotifySender statuses send one message to the envelope sender. None is sent to the null
//     sender, for automatic mail (Auto-Submitted other than "no") or to the notification address
//     itself. None is sent either when the copy has a spam or virus status (as/*, av/infected,
//     av/suspicious, av/disinfected), because such senders are usually forged, unless
//     NotifyProbablyForgedSender is set.

import { randomBytes } from 'node:crypto'

import { LOOP_HEADER, loopMarkValue } from '../archive/loop-mark'
import type { MessageFacts } from './message-facts'
import { renderTemplate, type Template, type TemplateData, type TemplateObject } from './template'

export type NotificationKind = 'admin' | 'recipient' | 'sender'

/** Statuses whose envelope sender is usually forged. */
export const FORGED_SENDER_STATUSES: readonly string[] = [
  'as/spam',
  'as/probable',
  'as/formal',
  'as/blacklisted',
  'av/infected',
  'av/suspicious',
  'av/disinfected',
]

export interface NotifyObject {
  id: string
  filename: string | null
  contentType: string
  size: number | null
  status: string
  detail?: string
  action: string
}

/** The pipeline's record of one copy: statuses, actions and whom to notify. */
export interface NotifyCopy {
  copy: number
  group: string
  recipients: string[]
  delivered: boolean
  statuses: string[]
  spam: string | null
  objects: NotifyObject[]
  block: string[]
  notifyAdmin: string[]
  notifyRecipient: string[]
  notifySender: string[]
  quarantineIds: string[]
  /** Changes made to the delivered content, such as "subject" or "remove:2". */
  changes: string[]
}

export interface NotifyMessage {
  transaction: string
  /** Envelope sender; empty for the null sender. */
  mailFrom: string
  clientIp: string
  clientHost: string | null
  helo: string | null
  facts: MessageFacts
  /** True when the message carries this gateway's own loop mark. */
  ownMark: boolean
}

export interface NotifySettings {
  AdminNotifyAddress: string
  NotifyFromAddress: string
  NotifyProbablyForgedSender: boolean
}

export interface NotificationPlan {
  kind: NotificationKind
  to: string
  reasons: string[]
}

export interface PlanResult {
  plans: NotificationPlan[]
  /** Reasons for the requested notifications that are not sent, one sentence each. */
  skipped: string[]
}

export function planNotifications(message: NotifyMessage, copy: NotifyCopy, settings: NotifySettings): PlanResult {
  const requested = copy.notifyAdmin.length + copy.notifyRecipient.length + copy.notifySender.length
  if (message.ownMark) {
    return { plans: [], skipped: requested > 0 ? ['the message is a notification or blind copy of this gateway'] : [] }
  }

  const plans: NotificationPlan[] = []
  const skipped: string[] = []
  if (copy.notifyAdmin.length > 0) plans.push({ kind: 'admin', to: settings.AdminNotifyAddress, reasons: copy.notifyAdmin })
  if (copy.notifyRecipient.length > 0) {
    for (const to of copy.recipients) plans.push({ kind: 'recipient', to, reasons: copy.notifyRecipient })
  }
  if (copy.notifySender.length > 0) {
    const skipReason = senderSkipReason(message, copy, settings)
    if (skipReason) skipped.push(`no sender notification: ${skipReason}`)
    else plans.push({ kind: 'sender', to: message.mailFrom, reasons: copy.notifySender })
  }
  return { plans, skipped }
}

function senderSkipReason(message: NotifyMessage, copy: NotifyCopy, settings: NotifySettings): string | null {
  if (message.mailFrom === '') return 'the envelope sender is the null sender'
  const auto = message.facts.autoSubmitted
  if (auto !== null && auto.trim().toLowerCase().split(/[\s;(]/)[0] !== 'no') return `the message is automatic (Auto-Submitted: ${auto})`
  if (message.mailFrom.toLowerCase() === settings.NotifyFromAddress.toLowerCase()) return 'the sender is the notification address'
  const forged = copy.statuses.filter((s) => FORGED_SENDER_STATUSES.includes(s))
  if (forged.length > 0 && !settings.NotifyProbablyForgedSender) {
    return `the sender address of ${forged.join(',')} mail is usually forged (NotifyProbablyForgedSender=false)`
  }
  return null
}

export interface RenderContext {
  hostname: string
  /** The gateway's mailgw.conf, for CONFIG_FILE. */
  configFile?: string
  postmaster: string
  version: string
  now: Date
}

export interface RenderedNotification {
  plan: NotificationPlan
  messageId: string
  content: Buffer
}

/** Renders one notification and adds the loop mark, so the gateway recognises it if it comes back. */
export function renderNotification(
  plan: NotificationPlan,
  message: NotifyMessage,
  copy: NotifyCopy,
  template: Template,
  settings: NotifySettings,
  context: RenderContext,
  loopKey: Buffer,
): RenderedNotification {
  const messageId = `<${randomBytes(12).toString('hex')}.notify@${context.hostname}>`
  const data = templateData(plan, message, copy, settings, context, messageId)
  let rendered = renderTemplate(template, data)
  // The loop mark is computed over the Message-ID, so a template without one still gets it.
  const headerBlock = rendered.slice(0, rendered.indexOf('\r\n\r\n'))
  if (!/^message-id:/im.test(headerBlock)) rendered = `Message-ID: ${messageId}\r\n${rendered}`
  const mark = `${LOOP_HEADER}: ${loopMarkValue(loopKey, context.hostname, messageId)}\r\n`
  return { plan, messageId, content: Buffer.from(mark + rendered, 'utf8') }
}

export function templateData(
  plan: NotificationPlan,
  message: NotifyMessage,
  copy: NotifyCopy,
  settings: NotifySettings,
  context: RenderContext,
  messageId: string,
): TemplateData {
  return {
    message: {
      HOSTNAME: context.hostname,
      POSTMASTER: context.postmaster,
      ADMIN_ADDR: settings.AdminNotifyAddress,
      NOTIFY_FROM: settings.NotifyFromAddress,
      NOTIFY_TO: plan.to,
      NOTIFY_MESSAGE_ID: messageId,
      NOTIFY_REASON: plan.reasons,
      DATE: rfc5322Date(context.now),
      VERSION: context.version,
      CONFIG_FILE: context.configFile ?? '',
      QUEUE_ID: message.transaction,
      CLIENT_ADDR: message.clientIp,
      CLIENT_HOST: message.clientHost ?? '',
      CLIENT_HELO: message.helo ?? '',
      SENDER_ADDR: message.mailFrom,
      RECIPIENTS: copy.recipients,
      RECPT_ADDR: plan.kind === 'recipient' ? plan.to : '',
      SUBJECT: message.facts.subject,
      MESSAGE_ID: message.facts.messageId,
      MESSAGE_SIZE: String(message.facts.size),
      GROUP: copy.group,
      SPAM_STATUS: copy.spam ? copy.spam.replace(/^as\//, '') : 'not detected',
      ACTION_LIST: actionList(copy),
      QUARANTINE_ID: copy.quarantineIds.join(' '),
      HEADERS: message.facts.headers,
    },
    objects: copy.objects.map(templateObject),
  }
}

function templateObject(object: NotifyObject): TemplateObject {
  return {
    name: object.filename ?? `part ${object.id}`,
    type: object.contentType,
    size: object.size ?? 0,
    status: object.status.replace(/^av\//, ''),
    virus: object.detail ?? '',
    action: object.action,
  }
}

const OBJECT_CHANGE: Record<string, string> = { remove: 'removed', placeholder: 'replaced by a notice', cure: 'disinfected' }

/** Describes the message actions taken on a copy, one line each. */
export function actionList(copy: NotifyCopy): string[] {
  const actions: string[] = []
  if (copy.delivered) actions.push('delivered')
  else actions.push(`blocked (${copy.block.join(', ')})`)
  for (const id of copy.quarantineIds) actions.push(`quarantined as ${id}`)
  for (const change of copy.changes) {
    if (change === 'subject') actions.push('subject marked')
    const [action, id] = change.split(':')
    if (id !== undefined && OBJECT_CHANGE[action]) actions.push(`object ${id} ${OBJECT_CHANGE[action]}`)
  }
  return actions
}

/** Formats a date as RFC 5322 does, in UTC: `Fri, 04 Dec 2026 10:00:00 +0000`. */
export function rfc5322Date(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000')
}
