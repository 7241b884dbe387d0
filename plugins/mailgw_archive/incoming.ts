// The incoming side of the archive plugin: every received message, as received and before any
// scan, goes to IncomingArchivePath, and the plugin records in the transaction notes whether the
// message carries this gateway's own loop mark. mailgw_policy reads these notes: it removes the
// archive entry again when it replies to the client with a temporary failure (the client will send
// the message again), and it queues the IncomingBcc copies and notifications with the copies.

import { archiveMessages, discardArchived, type ArchivedEntry } from '../../src/archive/archive'
import { hasOwnLoopMark, LOOP_HEADER } from '../../src/archive/loop-mark'
import type { MailgwConfig } from '../../src/config'
import { firstHeaderValue } from '../../src/pipeline/rewrite'
import { headerFields } from '../../src/notify/message-facts'
import { gatewayLoopKey } from './runtime'

/** Plain data stored in txn.notes.mailgw_incoming. */
export interface IncomingNotes {
  archived: ArchivedEntry[]
  ownMark: boolean
}

export async function archiveIncoming(
  config: MailgwConfig,
  raw: Buffer,
  envelope: { transaction: string; mailFrom: string; recipients: string[]; clientIp: string; arrival: Date },
): Promise<IncomingNotes> {
  const ownMark = carriesOwnMark(config, raw)
  const dir = config.archive.IncomingArchivePath
  if (!dir) return { archived: [], ownMark }

  const archived = await archiveMessages(dir, 'incoming', [
    {
      content: raw,
      entry: {
        group: '',
        envelope: { from: envelope.mailFrom, to: envelope.recipients },
        clientIp: envelope.clientIp,
        arrival: envelope.arrival.toISOString(),
        reasons: ['received'],
        transaction: envelope.transaction,
        copy: 0,
      },
    },
  ])
  return { archived, ownMark }
}

export function carriesOwnMark(config: MailgwConfig, raw: Buffer): boolean {
  const prefix = `${LOOP_HEADER.toLowerCase()}:`
  const marks = headerFields(raw)
    .filter((field) => field.toLowerCase().startsWith(prefix))
    .map((field) => field.slice(prefix.length))
  if (marks.length === 0) return false
  const messageId = firstHeaderValue(raw, 'message-id') ?? ''
  return hasOwnLoopMark(gatewayLoopKey(config), config.network.Hostname, messageId, marks)
}

export function incomingNotes(txn: Haraka.Transaction): IncomingNotes {
  const notes = txn.notes.mailgw_incoming as IncomingNotes | undefined
  return notes ?? { archived: [], ownMark: false }
}

/** Removes the incoming archive entry of a message the gateway rejected with a temporary failure. */
export async function discardIncoming(txn: Haraka.Transaction): Promise<void> {
  const notes = incomingNotes(txn)
  await discardArchived(notes.archived)
  txn.notes.mailgw_incoming = { ...notes, archived: [] }
}
