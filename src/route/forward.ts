// ForwardRoute: which next hop receives the mail of a recipient. Rules are tried in file order,
// and the first whose mask matches the recipient address wins. A recipient that matches no rule
// is delivered to the MX hosts of its own domain. The result is a plain value, so the queueing
// code can store it in the queue file and the get_mx hook reads the same answer back.

import { matchAddressMask } from '../match/mask'

export type RouteTarget = { kind: 'mx'; domain: string } | { kind: 'host'; host: string; port: number }

export interface RouteRule {
  mask: string
  target: RouteTarget
  line?: number
}

/** The next hop of one recipient: a rule's target, or its own domain's MX when no rule matches. */
export interface Route {
  target: RouteTarget
  rule: RouteRule | null
}

export function resolveRoute(rules: readonly RouteRule[], recipient: string): Route {
  for (const rule of rules) {
    if (matchAddressMask(rule.mask, recipient)) return { target: rule.target, rule }
  }
  const at = recipient.lastIndexOf('@')
  return { target: { kind: 'mx', domain: recipient.slice(at + 1).toLowerCase() }, rule: null }
}

/** Names a next hop with a stable string; recipients with equal keys share one delivery. */
export function routeKey(target: RouteTarget): string {
  if (target.kind === 'mx') return `mx:${target.domain.toLowerCase()}`
  return `host:${target.host.toLowerCase()}:${target.port}`
}

export function describeTarget(target: RouteTarget): string {
  if (target.kind === 'mx') return `MX of ${target.domain}`
  const host = target.host.includes(':') ? `[${target.host}]` : target.host
  return `${host}:${target.port}`
}

/** Splits recipients into groups that share a next hop, keeping the order of first appearance. */
export function partitionByRoute<T>(
  rules: readonly RouteRule[],
  recipients: readonly T[],
  addressOf: (r: T) => string,
): Array<{ target: RouteTarget; recipients: T[] }> {
  const groups = new Map<string, { target: RouteTarget; recipients: T[] }>()
  for (const r of recipients) {
    const { target } = resolveRoute(rules, addressOf(r))
    const key = routeKey(target)
    let group = groups.get(key)
    if (!group) {
      group = { target, recipients: [] }
      groups.set(key, group)
    }
    group.recipients.push(r)
  }
  return [...groups.values()]
}
