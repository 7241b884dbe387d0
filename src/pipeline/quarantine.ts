// Saves the copies whose statuses are in QuarantineMessage: as/* statuses to ASQuarantinePath,
// av/* statuses to AVQuarantinePath (a copy with both goes to both). All writes of one message
// succeed or none stays: when one fails, the entries already written are removed and the error is
// raised, so the caller can reply with a temporary failure and deliver nothing.

import type { PolicySettings } from '../config'
import { MessageStore, type StoredMetadata } from '../store/message-store'
import type { CopyOutcome } from './copy'

export interface QuarantineContext {
  transaction: string
  mailFrom: string
  clientIp: string
  arrival: Date
}

export interface QuarantinedEntry {
  copy: number
  store: MessageStore
  metadata: StoredMetadata
}

export async function quarantineCopies(
  copies: readonly { outcome: CopyOutcome; settings: PolicySettings }[],
  context: QuarantineContext,
): Promise<QuarantinedEntry[]> {
  const written: QuarantinedEntry[] = []
  try {
    for (const { outcome, settings } of copies) {
      const targets: [string[], string][] = [
        [outcome.actions.quarantineAs, settings.ASQuarantinePath],
        [outcome.actions.quarantineAv, settings.AVQuarantinePath],
      ]
      for (const [statuses, dir] of targets) {
        if (statuses.length === 0) continue
        const store = new MessageStore(dir)
        const metadata = await store.add(outcome.content, {
          status: statuses,
          group: outcome.group,
          envelope: { from: context.mailFrom, to: outcome.recipients },
          clientIp: context.clientIp,
          arrival: context.arrival.toISOString(),
          reasons: reasonsOf(outcome, statuses),
          transaction: context.transaction,
          copy: outcome.copy,
        })
        written.push({ copy: outcome.copy, store, metadata })
      }
    }
  } catch (err) {
    await removeQuarantined(written)
    throw err
  }
  return written
}

/** Removes entries written for a message whose delivery could not be queued. */
export async function removeQuarantined(entries: readonly QuarantinedEntry[]): Promise<void> {
  await Promise.all(entries.map((e) => e.store.remove(e.metadata.id).catch(() => undefined)))
}

function reasonsOf(outcome: CopyOutcome, statuses: readonly string[]): string[] {
  const reasons = statuses.map((status) => `${status} is in QuarantineMessage of group ${outcome.group}`)
  if (!outcome.deliver) reasons.push(`delivery blocked by ${outcome.actions.block.join(',')}`)
  for (const object of outcome.objects ?? []) {
    if (statuses.includes(object.status) && object.detail) reasons.push(`object ${object.id}: ${object.detail}`)
  }
  return reasons
}
