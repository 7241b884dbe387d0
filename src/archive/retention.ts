// Archive retention: removes the entries of a store that arrived more than a given number of days
// ago. Entries are judged by the arrival time in their metadata, not by file times, so copying a
// store elsewhere does not make old mail look new.

import type { MessageStore, StoredMetadata } from '../store/message-store'

const DAY_MS = 24 * 60 * 60 * 1000

export interface PurgeResult {
  removed: number
  bytes: number
}

/** Returns the entries that arrived before `now` minus `days` days; entries with an unreadable date are kept. */
export function entriesOlderThan(entries: readonly StoredMetadata[], days: number, now: Date): StoredMetadata[] {
  const limit = now.getTime() - days * DAY_MS
  return entries.filter((entry) => {
    const arrival = Date.parse(entry.arrival)
    return Number.isFinite(arrival) && arrival < limit
  })
}

export async function purgeOlderThan(
  store: MessageStore,
  days: number,
  now: Date,
  onProgress: (done: number, total: number) => void = () => undefined,
): Promise<PurgeResult> {
  const old = entriesOlderThan(await store.list(), days, now)
  const result: PurgeResult = { removed: 0, bytes: 0 }
  for (const entry of old) {
    await store.remove(entry.id)
    result.removed++
    result.bytes += entry.size
    onProgress(result.removed, old.length)
  }
  return result
}
