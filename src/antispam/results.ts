// The anti-spam part of a transaction's Haraka results (`txn.results`, name mailgw_antispam), one
// entry per copy. Haraka appends the pass, fail, msg and skip lists of each entry and overwrites
// the other keys, so each entry lists only names not recorded before, and `copies` carries every
// copy recorded so far. Plain data only: the results are logged and may be published to Redis.

import type { SpamVerdict } from '../pipeline/engines'

export const RESULTS_NAME = 'mailgw_antispam'

export interface CopyAntiSpam {
  copy: number
  group: string
  /** The verdict, or null when anti-spam did not run for the copy. */
  spam: SpamVerdict | null
  /** The reason anti-spam did not run, when it did not. */
  spamSkipped?: string
}

export interface CopyRecord {
  group: string
  /** `as/spam`, ..., `not_detected`, or `skipped`. */
  status: string
  score: number
  method: string
  signs: string[]
}

export interface AntiSpamResult {
  pass: string[]
  fail: string[]
  skip: string[]
  msg: string
  copies: Record<string, CopyRecord>
}

/** Builds the results entries of the copies of one message, in copy order. */
export function antiSpamResults(copies: readonly CopyAntiSpam[]): AntiSpamResult[] {
  const seen = { pass: new Set<string>(), fail: new Set<string>(), skip: new Set<string>() }
  const records: Record<string, CopyRecord> = {}
  const fresh = (list: keyof typeof seen, names: readonly string[]): string[] => {
    const added = [...new Set(names)].filter((n) => !seen[list].has(n))
    for (const n of added) seen[list].add(n)
    return added
  }

  return copies.map(({ copy, group, spam, spamSkipped }) => {
    const reason = spam?.skipped ?? (spam ? undefined : (spamSkipped ?? 'anti-spam did not run'))
    const status = reason !== undefined ? 'skipped' : (spam?.status ?? 'not_detected')
    const record: CopyRecord = { group, status, score: spam?.rate ?? 0, method: spam?.method ?? 'none', signs: [...(spam?.signs ?? [])] }
    records[String(copy)] = record

    const detail = reason !== undefined ? `: ${reason}` : ` score ${record.score}`
    return {
      pass: fresh('pass', spam?.passed ?? []),
      fail: fresh('fail', record.signs),
      skip: fresh('skip', spam?.skippedChecks ?? []),
      msg: `copy ${copy} (${group}) ${status}${detail}`,
      copies: { ...records },
    }
  })
}
