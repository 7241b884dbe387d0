// mailgw_policy: splits each accepted message into one virtual copy per policy group, runs every
// copy through its group's pipeline (anti-spam, anti-virus, object and message actions), then
// writes the quarantine entries and queues the copies to deliver.
// Hooks: data_post does all of the work, because there Haraka sends a DSN's own code (451 4.3.0),
// while a queue-hook DENYSOFT is always answered with 450. queue and queue_outbound (the same
// handler, so a plugin that sets `relaying` cannot route mail around it) then only answer 250
// for a message that data_post queued. A client that drops the connection between the two gets
// no 250 and sends again, so the message may arrive twice but is never lost.
// Replies: 250 only after every quarantine entry and every queue file is on disk. That includes a
// message whose copies were all blocked, because blocking is the gateway's decision. A failed write
// (nothing is left behind) or an unavailable scanner gives DENYSOFT with 4.3.0. Recipients
// addressed to the gateway's postmaster are redirected to the Postmaster address.
// Notes: the transaction gets notes.mailgw_copies (one summary per copy, with the statuses of
// NotifyAdmin, NotifyRecipient and NotifySender); each queued copy carries its own summary in
// notes.mailgw_copy.

import { promises as fs, readFileSync } from 'node:fs'
import path from 'node:path'

import { Address } from '@haraka/email-address'

import { isPostmasterAddress } from '../../src/access/protected'
import { antiSpamResults, RESULTS_NAME } from '../../src/antispam/results'
import { copyObjectEditor } from '../../src/av/object-editor'
import { packageRoot } from '../../src/cli/paths'
import type { MailgwConfig } from '../../src/config'
import { matcherFor, type SenderContext } from '../../src/groups/match'
import { formatDecision } from '../../src/log/decision'
import { MessageAnalysis } from '../../src/pipeline/analysis'
import { processCopy, type CopyOutcome } from '../../src/pipeline/copy'
import { copyDecisionLine } from '../../src/pipeline/decision-line'
import { EngineUnavailableError, type MessageContext } from '../../src/pipeline/engines'
import { quarantineCopies, removeQuarantined, type QuarantinedEntry } from '../../src/pipeline/quarantine'
import { removeHeaderFieldsInPlace } from '../../src/pipeline/rewrite'
import { isVerdictHeader } from '../../src/pipeline/verdict-headers'
import { dnsblResults } from '../mailgw_access/session'
import { discardIncoming } from '../mailgw_archive/incoming'
import { outgoingExtras } from '../mailgw_archive/outgoing'
import { confirmedClientHost } from '../shared/client'
import { normaliseHeaders } from '../shared/headers'
import { forgetReceivedMessage, takeReceivedMessage } from '../shared/message'
import { constants, DSN, safeHook, type HookResult } from '../shared/plugin'
import { gatewayConfig } from '../shared/runtime'
import { copySource } from './copies'
import { checkEngineModules, processEngines } from './engines'
import { enqueueCopies, type OutboundCopy, type QueuedFile } from './enqueue'

const PRODUCT = `haraka-mailgw ${(JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version}`

export function register(this: Haraka.Plugin): void {
  checkEngineModules(gatewayConfig())
  this.register_hook('data_post', 'process_message')
  this.register_hook('queue', 'queue_message')
  this.register_hook('queue_outbound', 'queue_message')
}

export function queue_message(this: Haraka.Plugin, next: Haraka.Next, connection: Haraka.Connection): void {
  const txn = connection.transaction
  if (txn?.notes.mailgw_queued === true) return next(constants.ok, 'Message queued')

  // data_post answers every message it does not queue, so this is a message it never saw.
  connection.logerror(this, `queue hook reached for ${txn?.uuid ?? connection.uuid} without the policy step`)
  next(constants.denysoft, 'Message was not processed, please try again later')
}

export const process_message = safeHook('data_post', async function (this: Haraka.Plugin, connection: Haraka.Connection) {
  const txn = connection.transaction
  if (!txn) return { code: constants.denysoft, msg: 'No transaction to queue' }

  const config = gatewayConfig()
  const recipients = redirectPostmaster(txn.rcpt_to, config)
  // mailgw_access has normally made these changes already; when it has not, a message the archive
  // plugin read before them is read again.
  if (normaliseHeaders(txn, config)) forgetReceivedMessage(txn)

  // The message is held once: verdict fields a sender may have forged are removed in place, and
  // every copy below is a new header block in front of a view of this Buffer's body.
  const raw = removeHeaderFieldsInPlace(await takeReceivedMessage(txn), isVerdictHeader)
  const context = messageContext(connection, txn, recipients)
  const sender: SenderContext = { mailFrom: context.mailFrom, clientIp: context.clientIp, clientHost: context.clientHost }
  const plans = matcherFor(config).partition(sender, recipients, (r) => r.address)

  let outcomes: { outcome: CopyOutcome; recipients: Haraka.Address[]; settings: (typeof plans)[number]['choice']['settings'] }[]
  try {
    const analysis = new MessageAnalysis(raw, context, await processEngines(config))
    outcomes = await Promise.all(
      plans.map(async (plan, index) => ({
        outcome: await processCopy(analysis, plan.choice, plan.recipients.map((r) => r.address), index + 1, {
          product: PRODUCT,
          editObjects: copyObjectEditor(plan.choice.settings, config, txn.uuid, PRODUCT),
        }),
        recipients: plan.recipients,
        settings: plan.choice.settings,
      })),
    )
  } catch (err) {
    if (!(err instanceof EngineUnavailableError)) throw err
    connection.logerror(this, `scan of ${txn.uuid} failed: ${err.message}`)
    await discardIncoming(txn)
    return { code: constants.denysoft, msg: DSN.create(451, 'Scanner unavailable, please try again later', 3, 0) }
  }

  recordAntiSpam(txn, outcomes.map((o) => o.outcome))
  return deliverCopies.call(this, connection, txn, config, outcomes, raw)
})

async function deliverCopies(
  this: Haraka.Plugin,
  connection: Haraka.Connection,
  txn: Haraka.Transaction,
  config: MailgwConfig,
  copies: { outcome: CopyOutcome; recipients: Haraka.Address[]; settings: MailgwConfig['policy'] }[],
  raw: Buffer,
): Promise<HookResult> {
  const mailFrom = txn.mail_from.isNull() ? '' : txn.mail_from.address
  const arrival = new Date()

  let quarantined: QuarantinedEntry[]
  try {
    quarantined = await quarantineCopies(copies, { transaction: txn.uuid, mailFrom, clientIp: connection.remote.ip, arrival })
  } catch (err) {
    connection.logerror(this, `quarantine write failed for ${txn.uuid}: ${(err as Error).message}`)
    await discardIncoming(txn)
    return { code: constants.denysoft, msg: DSN.create(451, 'Quarantine write failed, please try again later', 3, 0) }
  }

  const summaries = copies.map(({ outcome }) => copySummary(outcome, quarantined))
  txn.notes.mailgw_copies = summaries

  const outbound: OutboundCopy[] = []
  for (const [index, { outcome, recipients }] of copies.entries()) {
    if (!outcome.deliver) continue
    const notes = { mailgw_origin: txn.uuid, mailgw_copy: summaries[index] }
    const source = copySource(`${txn.uuid}.${outcome.copy}`, txn.mail_from, outcome.content, notes)
    outbound.push({ transaction: source, mailFrom: txn.mail_from, recipients, notes })
  }

  // IncomingBcc copies and notifications are queued with the copies, and the outgoing archive is
  // written before anything is queued, so all of it is on disk before the client gets 250.
  let extras: Awaited<ReturnType<typeof outgoingExtras>>
  try {
    extras = await outgoingExtras(this, connection, txn, config, copies, quarantined, PRODUCT, raw)
  } catch (err) {
    await removeQuarantined(quarantined)
    await discardIncoming(txn)
    connection.logerror(this, `outgoing archive or notification failed for ${txn.uuid}: ${(err as Error).message}`)
    return { code: constants.denysoft, msg: DSN.create(451, 'Archive write failed, please try again later', 3, 0) }
  }
  outbound.push(...extras.copies)

  // When this hook ran past its Haraka timeout (mailgw_policy.timeout), the client has already
  // been told 4xx and will send the message again; queueing it now would deliver it twice.
  if (connection.transaction !== txn) {
    await removeQuarantined(quarantined)
    await extras.discard()
    await discardIncoming(txn)
    connection.logerror(this, `policy step for ${txn.uuid} finished after Haraka's plugin timeout; nothing was queued`)
    return undefined
  }

  let queued: QueuedFile[] = []
  try {
    const queue = this.haraka_require('outbound') as Parameters<typeof enqueueCopies>[0]
    if (outbound.length > 0) queued = await enqueueCopies(queue, config.forward.ForwardRoute, outbound, (file) => fs.unlink(file))
  } catch (err) {
    await removeQuarantined(quarantined)
    await extras.discard()
    await discardIncoming(txn)
    connection.logerror(this, `queue write failed for ${txn.uuid}: ${(err as Error).message}`)
    return { code: constants.denysoft, msg: DSN.create(451, 'Queue write failed, please try again later', 3, 0) }
  }

  logDecisions.call(this, connection, txn, copies.map((c) => c.outcome), quarantined, queued)
  txn.notes.mailgw_queued = true
  return undefined
}

function logDecisions(
  this: Haraka.Plugin,
  connection: Haraka.Connection,
  txn: Haraka.Transaction,
  outcomes: readonly CopyOutcome[],
  quarantined: readonly QuarantinedEntry[],
  queued: readonly QueuedFile[],
): void {
  for (const outcome of outcomes) {
    const ids = quarantined.filter((q) => q.copy === outcome.copy).map((q) => q.metadata.id)
    const queueIds = queued.filter((q) => q.uuid.startsWith(`${txn.uuid}.${outcome.copy}.`)).map((q) => q.uuid)
    const extra: Record<string, string[]> = {}
    if (ids.length > 0) extra.quarantine_id = ids
    if (queueIds.length > 0) extra.queue_id = queueIds
    connection.loginfo(this, copyDecisionLine(txn.uuid, outcome, extra))
  }
  for (const q of queued) {
    connection.loginfo(
      this,
      formatDecision({
        id: txn.uuid,
        verdict: 'accept',
        stage: 'queue',
        fields: {
          queue_id: q.uuid,
          from: `<${txn.mail_from.address}>`,
          to: q.recipients,
          route: q.route.kind === 'host' ? `${q.route.host}:${q.route.port}` : `mx:${q.route.domain}`,
        },
      }),
    )
  }
}

/** Plain data for notes and queue files: what happened to one copy and whom to notify. */
function copySummary(outcome: CopyOutcome, quarantined: readonly QuarantinedEntry[]): Record<string, unknown> {
  return {
    copy: outcome.copy,
    group: outcome.group,
    recipients: outcome.recipients,
    delivered: outcome.deliver,
    statuses: outcome.actions.statuses,
    spam: outcome.spam?.status ?? null,
    objects: (outcome.objects ?? []).map(({ id, filename, contentType, status, detail, action }) => ({ id, filename, contentType, status, detail, action })),
    block: outcome.actions.block,
    notifyAdmin: outcome.actions.notifyAdmin,
    notifyRecipient: outcome.actions.notifyRecipient,
    notifySender: outcome.actions.notifySender,
    quarantine: quarantined.filter((q) => q.copy === outcome.copy).map((q) => ({ id: q.metadata.id, dir: q.store.dir })),
  }
}

/**
 * Records each copy's signs, status and score in the transaction's Haraka results; the last entry
 * is logged as the collated `[mailgw_antispam]` line.
 */
function recordAntiSpam(txn: Haraka.Transaction, outcomes: readonly CopyOutcome[]): void {
  const entries = antiSpamResults(outcomes)
  for (const [index, entry] of entries.entries()) {
    txn.results.add({ name: RESULTS_NAME }, { ...entry, emit: index === entries.length - 1 })
  }
}

function redirectPostmaster(rcpts: readonly Haraka.Address[], config: MailgwConfig): Haraka.Address[] {
  return rcpts.map((r) => (isPostmasterAddress(r.user, r.host, config.network.Hostname) ? new Address(config.network.Postmaster) : r))
}

function messageContext(connection: Haraka.Connection, txn: Haraka.Transaction, recipients: readonly Haraka.Address[]): MessageContext {
  const context: MessageContext = {
    transactionId: txn.uuid,
    mailFrom: txn.mail_from.isNull() ? '' : txn.mail_from.address,
    recipients: recipients.map((r) => r.address),
    clientIp: connection.remote.ip,
    clientHost: confirmedClientHost(connection),
    helo: connection.hello.host,
  }
  // XCLIENT runs the connect stage again for the address it names. Results stored for any other
  // address, such as the proxy's own, do not describe this client, so they are not passed on.
  const dnsbl = dnsblResults(connection)
  if (dnsbl?.ip === context.clientIp) context.clientDnsbl = dnsbl
  const karma = karmaScore(connection)
  if (karma !== null) context.karmaScore = karma
  return context
}

/** Returns karma's connection score (haraka-plugin-karma, when loaded), or null when it has none. */
function karmaScore(connection: Haraka.Connection): number | null {
  const score = Number((connection.results.get('karma') as { score?: unknown } | undefined)?.score)
  return Number.isFinite(score) ? score : null
}
