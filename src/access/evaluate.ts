// Runs a rule list against what is known about the session: first match wins, in file order.
// A rule with a `to` part can only be decided per recipient. When such a rule is the first whose
// subject matches and no recipient is known yet (at connect, HELO or MAIL), the decision is
// deferred and the list is run again for each recipient at RCPT.

import { matchAddressMask, matchAnyMask } from '../match/mask'
import { parseIp, rangeContains, type IpRange } from './ip'
import type { AccessRule, ClientRule, ClientSubject, HeloRule, HeloTest, MailfromRule, MailfromTest } from './rules'

export type RuleOutcome<R> = { kind: 'match'; rule: R } | { kind: 'none' } | { kind: 'deferred' }

/**
 * Returns the first rule whose subject matches and whose recipient masks match `recipient`.
 * Without a recipient, a subject match on a rule with masks defers the decision.
 */
export function firstMatch<R extends AccessRule>(rules: readonly R[], subjectMatches: (rule: R) => boolean, recipient?: string): RuleOutcome<R> {
  for (const rule of rules) {
    if (!subjectMatches(rule)) continue
    if (rule.to === null) return { kind: 'match', rule }
    if (recipient === undefined) return { kind: 'deferred' }
    if (rule.to.some((mask) => matchAddressMask(mask, recipient))) return { kind: 'match', rule }
  }
  return { kind: 'none' }
}

/** What the connect stage learned about the client. */
export interface ClientFacts {
  ip: string
  /** The reverse name confirmed by a forward lookup; null when there is none or it is unknown. */
  verifiedHost: string | null
  /** Whether the ratings of the DNSBL zones listing the client add up to 100 or more. */
  inDnsbl: boolean
}

export type NetworkTable = ReadonlyMap<string, readonly IpRange[]>

export function clientSubjectMatches(subject: ClientSubject, client: ClientFacts, networks: NetworkTable): boolean {
  switch (subject.kind) {
    case 'any':
      return true
    case 'in_dnsbl':
      return client.inDnsbl
    case 'ip': {
      const ip = parseIp(client.ip)
      return ip !== null && subject.ranges.some((r) => rangeContains(r, ip))
    }
    case 'network': {
      const ip = parseIp(client.ip)
      return ip !== null && subject.names.some((name) => (networks.get(name) ?? []).some((r) => rangeContains(r, ip)))
    }
    case 'host':
      return client.verifiedHost !== null && matchAnyMask(subject.masks, client.verifiedHost.replace(/\.$/, ''))
  }
}

export function matchClientRules(rules: readonly ClientRule[], client: ClientFacts, networks: NetworkTable, recipient?: string): RuleOutcome<ClientRule> {
  return firstMatch(rules, (r) => clientSubjectMatches(r.subject, client, networks), recipient)
}

/**
 * The addresses of the HELO/EHLO name. `unknown` when the lookup failed or timed out, so that
 * only `any` matches: a DNS failure never decides by itself.
 */
export type HeloFacts = { kind: 'known'; addresses: string[]; clientIp: string } | { kind: 'unknown' }

export function heloTestHolds(test: HeloTest, facts: HeloFacts): boolean {
  if (test === 'any') return true
  if (facts.kind === 'unknown') return false

  const client = parseIp(facts.clientIp)
  const same = facts.addresses.some((a) => {
    const ip = parseIp(a)
    return ip !== null && client !== null && ip.family === client.family && ip.value === client.value
  })
  switch (test) {
    case 'has_ip':
      return facts.addresses.length > 0
    case 'no_ip':
      return facts.addresses.length === 0
    case 'same_ip':
      return same
    case 'diff_ip':
      return facts.addresses.length > 0 && !same
  }
}

export function matchHeloRules(rules: readonly HeloRule[], facts: HeloFacts, recipient?: string): RuleOutcome<HeloRule> {
  return firstMatch(rules, (r) => heloTestHolds(r.test, facts), recipient)
}

/**
 * What DNS says about the sender's domain. `null_sender` for `MAIL FROM:<>`, where only `any`
 * matches, so that bounces are never rejected for their missing domain; `unknown` when a lookup
 * failed.
 */
export type MailfromFacts =
  | { kind: 'known'; hasAddress: boolean; hasMx: boolean }
  | { kind: 'unknown'; hasAddress: boolean | null; hasMx: boolean | null }
  | { kind: 'null_sender' }

export function mailfromTestHolds(test: MailfromTest, facts: MailfromFacts): boolean {
  if (test === 'any') return true
  if (facts.kind === 'null_sender') return false
  switch (test) {
    case 'has_ip':
      return facts.hasAddress === true
    case 'no_ip':
      return facts.hasAddress === false
    case 'has_mx':
      return facts.hasMx === true
    case 'no_mx':
      return facts.hasMx === false
  }
}

export function matchMailfromRules(rules: readonly MailfromRule[], facts: MailfromFacts, recipient?: string): RuleOutcome<MailfromRule> {
  return firstMatch(rules, (r) => mailfromTestHolds(r.test, facts), recipient)
}
