// Which recipients the gateway accepts: the RelayRule list first (first match wins), then
// ProtectedDomains. A recipient that carries routing in its local part (`%`, `!`, a quoted `@`),
// a source route (`<@a:b@c>`) or an address literal (`user@[192.0.2.1]`) is accepted only when
// the first matching RelayRule accepts the client for every recipient (`to` not set or `*`): a
// recipient mask such as `to *@example.com` or a protected domain must not open a path that a
// downstream server may read as a relay request. Domains with a trailing dot never get here:
// Haraka rejects them as invalid with 501.

import { matchClientRules, type ClientFacts, type NetworkTable } from './evaluate'
import { isProtectedDomain } from './protected'
import type { ClientRule } from './rules'

export type RelayTrick = 'percent-hack' | 'bang-path' | 'quoted-at' | 'source-route' | 'address-literal'

export interface Recipient {
  user: string
  host: string
  /** The address as the client wrote it, with brackets and any source route. */
  original: string
  address: string
}

export function relayTricks(rcpt: Recipient): RelayTrick[] {
  const tricks: RelayTrick[] = []
  if (rcpt.user.includes('%')) tricks.push('percent-hack')
  if (rcpt.user.includes('!')) tricks.push('bang-path')
  if (rcpt.user.includes('@')) tricks.push('quoted-at')
  if (/^\s*<?\s*@/.test(rcpt.original)) tricks.push('source-route')
  if (rcpt.host.startsWith('[')) tricks.push('address-literal')
  return tricks
}

export type RelayDecision =
  | { verdict: 'accept'; rule: ClientRule | 'ProtectedDomains' }
  | { verdict: 'deny' | 'tempfail'; rule: ClientRule; reason: string }
  | { verdict: 'deny'; rule: 'ProtectedDomains' | 'RelayTrick'; reason: string; tricks?: RelayTrick[] }

export interface RelayInput {
  rules: readonly ClientRule[]
  client: ClientFacts
  networks: NetworkTable
  protectedDomains: readonly string[]
  recipient: Recipient
}

export function decideRelay({ rules, client, networks, protectedDomains, recipient }: RelayInput): RelayDecision {
  const tricks = relayTricks(recipient)
  const outcome = matchClientRules(rules, client, networks, recipient.address)

  if (outcome.kind === 'match') {
    const { rule } = outcome
    if (rule.verdict === 'deny') return { verdict: 'deny', rule, reason: 'RelayRule denies this recipient' }
    if (rule.verdict === 'tempfail') return { verdict: 'tempfail', rule, reason: 'RelayRule tempfails this recipient' }
    if (tricks.length === 0 || rule.to === null) return { verdict: 'accept', rule }
    return { verdict: 'deny', rule: 'RelayTrick', reason: `relay trick (${tricks.join(',')}) accepted only from clients allowed to relay to any recipient`, tricks }
  }

  if (tricks.length > 0) {
    return { verdict: 'deny', rule: 'RelayTrick', reason: `relay trick (${tricks.join(',')}) from a client not allowed to relay`, tricks }
  }
  if (isProtectedDomain(protectedDomains, recipient.host)) return { verdict: 'accept', rule: 'ProtectedDomains' }
  return { verdict: 'deny', rule: 'ProtectedDomains', reason: 'recipient domain is not protected and no RelayRule accepts it' }
}
