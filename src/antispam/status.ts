// Turns the signs of one message into its status. In order:
//   1. as/blacklisted when the DNSBL ratings of the zones listing the client or a relay add up
//      to 100 or more, whatever the other signs say;
//   2. as/spam when a decisive sign fired (GTUBE, a MarkAll* script rule);
//   3. as/formal for automatic mail;
//   4. otherwise the score (sum of the sign weights) against the thresholds of the group's
//      SpamRateLimit: as/spam, as/probable, or not detected. Higher levels need fewer points.
// The thresholds were set on the evaluation corpus (docs/antispam.md has the figures).

import type { SpamStatus } from '../config'
import type { Sign } from './signs'

export type RateLimit = 'minimum' | 'standard' | 'high' | 'maximum'

export const THRESHOLDS: Record<RateLimit, { spam: number; probable: number }> = {
  minimum: { spam: 12, probable: 8 },
  standard: { spam: 9, probable: 6 },
  high: { spam: 7, probable: 4 },
  maximum: { spam: 5, probable: 3 },
}

export const BLACKLIST_RATING = 100

export interface Decision {
  status: SpamStatus | null
  score: number
  /** The sign family that decided, `none` when nothing decided (X-SpamTest-Method). */
  method: string
}

export function decideStatus(signs: readonly Sign[], dnsblRating: number, formal: Sign | null, level: RateLimit): Decision {
  const score = Math.round(signs.reduce((sum, s) => sum + s.weight, 0) * 10) / 10
  if (dnsblRating >= BLACKLIST_RATING) return { status: 'as/blacklisted', score, method: 'DNSBL' }

  const decisive = signs.find((s) => s.decisive)
  if (decisive) return { status: 'as/spam', score, method: decisive.name }

  if (formal) return { status: 'as/formal', score, method: 'formal' }

  const threshold = THRESHOLDS[level]
  const status: SpamStatus | null = score >= threshold.spam ? 'as/spam' : score >= threshold.probable ? 'as/probable' : null
  return { status, score, method: status ? topMethod(signs) : 'none' }
}

/** Names the sign family that contributed the most points. */
function topMethod(signs: readonly Sign[]): string {
  const totals = new Map<string, number>()
  for (const s of signs) totals.set(s.method, (totals.get(s.method) ?? 0) + s.weight)
  return [...totals.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'none'
}
