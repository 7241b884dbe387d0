// The reputation sign: haraka-plugin-karma's connection score, read by the policy plugin into
// MessageContext.karmaScore. Karma scores a connection from its own checks (sender TLD, envelope
// syntax, recipients, the client's history in Redis). A negative score is a sign worth half of it
// in points, up to KARMA_MAX_POINTS, so karma alone makes at most probable spam at standard.
// Karma does not reject by itself, because the launcher configures it to record only.

import type { MessageContext } from '../pipeline/engines'
import { sign, type Sign } from './signs'

/** Maximum points of a karma score. Our choice, kept below the standard spam threshold of 9. */
export const KARMA_MAX_POINTS = 6

export function reputationSign(context: MessageContext): Sign | null {
  const score = context.karmaScore
  if (score === undefined || !Number.isFinite(score) || score >= 0) return null
  const points = Math.min(-score / 2, KARMA_MAX_POINTS)
  return sign('SpamCheckReputation', 'reputation', points, `karma score ${score} for ${context.clientIp}`)
}
