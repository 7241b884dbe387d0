// The vocabulary of the anti-spam checks. A sign is one named check that fired, with the points it
// adds to the message's score; a check that did not fire adds no sign. A decisive sign sets the
// status by itself (the GTUBE test string, a MarkAll* script rule), whatever the score.

/** The family of a sign; it becomes X-SpamTest-Method when that sign decides the status. */
export type SignMethod = 'headers' | 'envelope' | 'received' | 'content' | 'DNSBL' | 'DNS' | 'SPF' | 'SURBL' | 'rspamd' | 'reputation' | 'formal'

export interface Sign {
  /** Stable name, e.g. `SpamHeadersToUndisclosed`; the policy key that switches it, where there is one. */
  name: string
  method: SignMethod
  /** Points added to the score; 0 for signs that only explain (formal, decisive). */
  weight: number
  /** Short human-readable reason, e.g. `To: undisclosed-recipients:;`. */
  detail: string
  /** Set on a sign that makes the message spam at every SpamRateLimit. */
  decisive?: boolean
}

/** A check that could not run (a DNS timeout, rspamd symbols missing); recorded, never scored. */
export interface SkippedCheck {
  name: string
  reason: string
}

export function sign(name: string, method: SignMethod, weight: number, detail: string): Sign {
  return { name, method, weight, detail }
}

export function decisiveSign(name: string, method: SignMethod, detail: string): Sign {
  return { name, method, weight: 0, detail, decisive: true }
}
