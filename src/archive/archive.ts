// Writes to the incoming and outgoing archives. An archive is a message store whose entries have
// the status `incoming` (a message as received, before scanning) or `outgoing` (a copy the gateway
// queued for delivery, a copy it blocked, or a message it generated). The writes of one message
// succeed together or not at all: when one fails, the entries already written are removed and the
// error is raised, so the caller can reply with a temporary failure and nothing half-stored stays.

import type { ContentLike } from '../message/content'
import { MessageStore, type NewEntry, type StoredMetadata } from '../store/message-store'

export type ArchiveStatus = 'incoming' | 'outgoing'

export interface ArchiveItem {
  content: ContentLike
  entry: Omit<NewEntry, 'status'>
}

export interface ArchivedEntry {
  dir: string
  id: string
}

/** Writes every item to the store in `dir` with the given status; all or nothing. */
export async function archiveMessages(dir: string, status: ArchiveStatus, items: readonly ArchiveItem[]): Promise<ArchivedEntry[]> {
  const store = new MessageStore(dir)
  const written: ArchivedEntry[] = []
  try {
    for (const item of items) {
      const metadata: StoredMetadata = await store.add(item.content, { status: [status], ...item.entry })
      written.push({ dir, id: metadata.id })
    }
  } catch (err) {
    await discardArchived(written)
    throw err
  }
  return written
}

/** Removes archive entries of a message that the gateway did not accept after all. */
export async function discardArchived(entries: readonly ArchivedEntry[]): Promise<void> {
  await Promise.all(entries.map((e) => new MessageStore(e.dir).remove(e.id).catch(() => undefined)))
}
