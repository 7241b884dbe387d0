// mailgw_archive: writes every received message to the incoming archive before it is scanned.
// Hooks: data_post, listed before mailgw_policy so it runs first; it returns CONT so the policy
// plugin then processes the message. (data_post rather than queue, because Haraka answers every
// queue-hook DENYSOFT with 450 and drops the DSN's 451.)
// Replies: 451 4.3.0 when the archive write fails (full disk, unwritable directory), so the
// client keeps the message and tries again; nothing is lost silently.
// Notes: txn.notes.mailgw_incoming (the archive entry and whether the message carries this
// gateway's loop mark), read by mailgw_policy through outgoing.ts.

import { formatDecision } from '../../src/log/decision'
import { constants, DSN, safeHook } from '../shared/plugin'
import { receivedMessage } from '../shared/message'
import { gatewayConfig } from '../shared/runtime'
import { archiveIncoming } from './incoming'
import { gatewayLoopKey } from './runtime'

export function register(this: Haraka.Plugin): void {
  gatewayLoopKey(gatewayConfig())
  this.register_hook('data_post', 'archive_incoming')
}

export const archive_incoming = safeHook('data_post', async function (this: Haraka.Plugin, connection: Haraka.Connection) {
  const txn = connection.transaction
  if (!txn) return

  const config = gatewayConfig()
  // Read once and kept for mailgw_policy, which runs next on the same transaction.
  const raw = await receivedMessage(txn)
  const mailFrom = txn.mail_from.isNull() ? '' : txn.mail_from.address
  try {
    const notes = await archiveIncoming(config, raw, {
      transaction: txn.uuid,
      mailFrom,
      recipients: txn.rcpt_to.map((r) => r.address),
      clientIp: connection.remote.ip,
      arrival: new Date(),
    })
    txn.notes.mailgw_incoming = notes
    for (const entry of notes.archived) {
      connection.loginfo(this, formatDecision({ id: txn.uuid, verdict: 'accept', stage: 'archive', fields: { archive: 'incoming', archive_id: entry.id } }))
    }
  } catch (err) {
    connection.logerror(this, `incoming archive write failed for ${txn.uuid}: ${(err as Error).message}`)
    return { code: constants.denysoft, msg: DSN.create(451, 'Archive write failed, please try again later', 3, 0) }
  }
  return undefined
})
