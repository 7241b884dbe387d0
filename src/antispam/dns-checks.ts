// The DNS signs, all behind SpamUseDNS:
// - SpamCheckDNSBL: the client and the public relays of the Received chain in the DNSBlackList
//   zones; the highest rating sum of one address is the message's DNSBL rating (100 or more makes
//   it as/blacklisted), a lower sum is a sign worth a tenth of it in points;
// - SpamCheckHostInDNS: the client has a reverse name that resolves back to it;
// - SpamCheckSPF: the envelope sender (or the HELO name for a null sender) against SPF;
// - SpamCheckSURBL: the registered domains and the IPs of links in the UriBlackList zones.
// Every lookup goes through the engine's resolver (configured nameservers, TTL-bounded cache).
// The client address is not looked up again when the access stage's connect-time results for it
// come with the message (MessageContext.clientDnsbl) and cover the same zones and ratings; the
// relays of the Received chain are always looked up. Zone errors at connect stay errors: the
// zone is reported as skipped rather than asked a second time.
// A lookup that fails or times out is recorded as a skipped check and adds no points: a DNS outage
// means fewer signs, never a block.

import { isUnlistedAddress, lookupDnsbl, type DnsblResults, type DnsblZone } from '../access/dnsbl'
import { dnsblQueryName, reverseName } from '../access/ip'
import type { PolicySettings } from '../config'
import type { Resolver } from '../dns/resolver'
import type { MessageContext } from '../pipeline/engines'
import { domainOf, registeredDomain } from './domains'
import type { LinkHost } from './links'
import { checkSpf } from './spf'
import { sign, type Sign, type SkippedCheck } from './signs'

export interface DnsSettings {
  resolver: Resolver
  dnsblZones: readonly DnsblZone[]
  uriZones: readonly string[]
  /** Milliseconds one SPF DNS query may take. */
  spfTimeoutMs: number
}

export interface DnsOutcome {
  signs: Sign[]
  skipped: SkippedCheck[]
  /** Highest sum of the ratings of the zones listing one address (client or relay). */
  dnsblRating: number
}

/** Links beyond this many distinct hosts are not looked up, to bound the queries per message. */
const MAX_URI_HOSTS = 20

export async function dnsSigns(
  context: MessageContext,
  relays: readonly string[],
  links: readonly LinkHost[],
  settings: PolicySettings,
  dns: DnsSettings,
): Promise<DnsOutcome> {
  const outcome: DnsOutcome = { signs: [], skipped: [], dnsblRating: 0 }
  if (!settings.SpamUseDNS) return outcome

  const checks: Promise<void>[] = []
  if (settings.SpamCheckDNSBL) checks.push(dnsblCheck(context, relays, dns, outcome))
  if (settings.SpamCheckHostInDNS) checks.push(hostInDnsCheck(context.clientIp, dns.resolver, outcome))
  if (settings.SpamCheckSPF) checks.push(spfCheck(context, dns, outcome))
  if (settings.SpamCheckSURBL) checks.push(uriCheck(links, dns, outcome))
  await Promise.all(checks)
  return outcome
}

/**
 * Returns the connect-time DNSBL results when they can replace a lookup of `ip`, that is when they
 * were made for that address over exactly the engine's zones and ratings. Returns null otherwise.
 */
export function reusableDnsbl(stored: DnsblResults | undefined, ip: string, zones: readonly DnsblZone[]): DnsblResults | null {
  if (!stored || stored.ip !== ip) return null
  if (stored.skipped) return isUnlistedAddress(ip) ? stored : null
  if (stored.zones.length !== zones.length) return null
  const rated = new Map(stored.zones.map((z) => [z.zone.toLowerCase(), z.rating]))
  return zones.every((z) => rated.get(z.zone.toLowerCase()) === z.rating) ? stored : null
}

async function dnsblCheck(context: MessageContext, relays: readonly string[], dns: DnsSettings, outcome: DnsOutcome): Promise<void> {
  if (dns.dnsblZones.length === 0) return
  const clientIp = context.clientIp
  const stored = reusableDnsbl(context.clientDnsbl, clientIp, dns.dnsblZones)
  const results = await Promise.all([
    stored ?? lookupDnsbl(dns.resolver, clientIp, dns.dnsblZones),
    ...relays.map((ip) => lookupDnsbl(dns.resolver, ip, dns.dnsblZones)),
  ])

  let best: { ip: string; score: number; zones: string[] } | null = null
  for (const result of results) {
    for (const zone of result.zones) if (zone.error) outcome.skipped.push({ name: 'SpamCheckDNSBL', reason: `${zone.zone} for ${result.ip}: ${zone.error}` })
    if (result.score > 0 && (!best || result.score > best.score)) {
      best = { ip: result.ip, score: result.score, zones: result.zones.filter((z) => z.listed).map((z) => z.zone) }
    }
  }
  if (!best) return

  outcome.dnsblRating = best.score
  const role = best.ip === clientIp ? 'client' : 'relay'
  const detail = `${role} ${best.ip} in ${best.zones.join(',')} (rating ${best.score})`
  outcome.signs.push(sign('SpamCheckDNSBL', 'DNSBL', best.score >= 100 ? 0 : best.score / 10, detail))
}

async function hostInDnsCheck(ip: string, resolver: Resolver, outcome: DnsOutcome): Promise<void> {
  if (isUnlistedAddress(ip)) return
  const name = reverseName(ip)
  if (!name) return
  const ptr = await resolver.lookup(name, 'PTR')
  if (ptr.status === 'error') {
    outcome.skipped.push({ name: 'SpamCheckHostInDNS', reason: ptr.error })
    return
  }
  if (ptr.status !== 'ok') {
    outcome.signs.push(sign('SpamCheckHostInDNS', 'DNS', 3, `${ip} has no reverse DNS name`))
    return
  }

  const family = ip.includes(':') ? 'AAAA' : 'A'
  for (const host of ptr.records.slice(0, 5)) {
    const forward = await resolver.lookup(host, family)
    if (forward.status === 'ok' && forward.records.some((a) => a.toLowerCase() === ip.toLowerCase())) return
    if (forward.status === 'error') {
      outcome.skipped.push({ name: 'SpamCheckHostInDNS', reason: forward.error })
      return
    }
  }
  outcome.signs.push(sign('SpamCheckHostInDNS', 'DNS', 2, `reverse name ${ptr.records[0]} of ${ip} does not resolve back`))
}

const SPF_POINTS: Partial<Record<string, number>> = { Fail: 4, SoftFail: 2, PermError: 1 }

async function spfCheck(context: MessageContext, dns: DnsSettings, outcome: DnsOutcome): Promise<void> {
  if (isUnlistedAddress(context.clientIp)) return
  const domain = context.mailFrom === '' ? (context.helo ?? '') : domainOf(context.mailFrom)
  if (!/^[a-z0-9.-]+\.[a-z0-9-]+$/i.test(domain)) return

  let result: string
  try {
    result = await checkSpf(dns.resolver, context.clientIp, domain, context.mailFrom, context.helo ?? 'unknown', dns.spfTimeoutMs)
  } catch (err) {
    outcome.skipped.push({ name: 'SpamCheckSPF', reason: `SPF check of ${domain} failed: ${(err as Error).message}` })
    return
  }
  if (result === 'TempError') {
    outcome.skipped.push({ name: 'SpamCheckSPF', reason: `SPF of ${domain}: temporary DNS error` })
    return
  }
  const points = SPF_POINTS[result]
  if (points) outcome.signs.push(sign('SpamCheckSPF', 'SPF', points, `SPF ${result} for ${domain} from ${context.clientIp}`))
}

async function uriCheck(links: readonly LinkHost[], dns: DnsSettings, outcome: DnsOutcome): Promise<void> {
  if (dns.uriZones.length === 0 || links.length === 0) return
  const names = new Set<string>()
  for (const link of links) {
    if (link.isIp) {
      if (!isUnlistedAddress(link.host)) names.add(link.host)
      continue
    }
    const domain = registeredDomain(link.host)
    if (domain) names.add(domain)
  }

  const queries: { item: string; zone: string; name: string }[] = []
  for (const item of [...names].slice(0, MAX_URI_HOSTS)) {
    for (const zone of dns.uriZones) {
      const name = /^[\d.]+$|:/.test(item) ? dnsblQueryName(item, zone) : `${item}.${zone}`
      if (name) queries.push({ item, zone, name })
    }
  }
  const answers = await Promise.all(queries.map(async (q) => ({ ...q, answer: await dns.resolver.lookup(q.name, 'A') })))

  const listed = new Map<string, string>()
  for (const { item, zone, answer } of answers) {
    if (answer.status === 'error') outcome.skipped.push({ name: 'SpamCheckSURBL', reason: `${item} in ${zone}: ${answer.error}` })
    // RFC 5782 listings are 127.0.0.0/8; 127.0.0.1 is the "query refused" answer of SURBL and URIBL.
    if (answer.status === 'ok' && answer.records.some((a) => a.startsWith('127.') && a !== '127.0.0.1')) listed.set(item, zone)
  }
  if (listed.size === 0) return
  const points = Math.min(6 + 2 * (listed.size - 1), 10)
  const detail = [...listed].map(([item, zone]) => `${item} in ${zone}`).join(', ')
  outcome.signs.push(sign('SpamCheckSURBL', 'SURBL', points, detail))
}
