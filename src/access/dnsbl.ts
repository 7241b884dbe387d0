// DNSBL lookups of the client address (RFC 5782), every zone in parallel. A zone lists the
// address when it answers with an A record in 127.0.0.0/8; 127.255.255.0/24 answers are the
// lists' own error codes (for example "query refused") and count as an error, not a listing.
// `inDnsbl` holds when the ratings of the listing zones add up to 100 or more. A timeout or
// failure of one zone is recorded as an error and adds nothing to the score, so DNS trouble never
// rejects mail by itself.
//
// The anti-spam stage reads these results instead of asking again; their shape, stored by the
// access plugin in `connection.notes.mailgw_dnsbl`, is `DnsblResults` below.

import { parseIp, rangeContains, parseIpRange, dnsblQueryName } from './ip'
import type { Resolver } from '../dns/resolver'

export interface DnsblZone {
  zone: string
  rating: number
}

export interface DnsblZoneResult {
  zone: string
  rating: number
  listed: boolean
  /** The A records of a listing, e.g. ["127.0.0.2"]. */
  codes: string[]
  /** The TXT reason of a listing, when the zone gives one. */
  reason?: string
  /** Why the zone could not be asked or answered (timeout, SERVFAIL, list error code). */
  error?: string
  elapsedMs: number
}

export interface DnsblResults {
  ip: string
  /** Set when no lookup was made, e.g. for loopback and private addresses. */
  skipped?: string
  zones: DnsblZoneResult[]
  /** Sum of the ratings of the listing zones. */
  score: number
  inDnsbl: boolean
  checkedAt: string
}

const LISTING = parseIpRange('127.0.0.0/8')!
const LIST_ERROR = parseIpRange('127.255.255.0/24')!

/** Loopback, RFC 1918, link-local, CGNAT and IPv6 ULA addresses are never listed publicly. */
const UNLISTED = ['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '100.64.0.0/10', '::1/128', 'fc00::/7', 'fe80::/10'].map(
  (r) => parseIpRange(r)!,
)

export function isUnlistedAddress(ip: string): boolean {
  const parsed = parseIp(ip)
  return parsed === null || UNLISTED.some((r) => rangeContains(r, parsed))
}

export async function lookupDnsbl(resolver: Resolver, ip: string, zones: readonly DnsblZone[]): Promise<DnsblResults> {
  const checkedAt = new Date().toISOString()
  if (zones.length === 0) return { ip, skipped: 'no DNSBlackList zones configured', zones: [], score: 0, inDnsbl: false, checkedAt }
  if (isUnlistedAddress(ip)) return { ip, skipped: 'loopback or private address', zones: [], score: 0, inDnsbl: false, checkedAt }

  const results = await Promise.all(zones.map((zone) => lookupZone(resolver, ip, zone)))
  const score = results.filter((r) => r.listed).reduce((sum, r) => sum + r.rating, 0)
  return { ip, zones: results, score, inDnsbl: score >= 100, checkedAt }
}

async function lookupZone(resolver: Resolver, ip: string, { zone, rating }: DnsblZone): Promise<DnsblZoneResult> {
  const started = Date.now()
  const name = dnsblQueryName(ip, zone) as string
  const answer = await resolver.lookup(name, 'A')
  const base = { zone, rating, codes: [] as string[] }

  if (answer.status === 'nxdomain' || answer.status === 'nodata') return { ...base, listed: false, elapsedMs: Date.now() - started }
  if (answer.status === 'error') return { ...base, listed: false, error: answer.error, elapsedMs: Date.now() - started }

  const codes = answer.records.filter((a) => rangeContains(LISTING, a))
  const errors = codes.filter((a) => rangeContains(LIST_ERROR, a))
  if (errors.length > 0) {
    return { ...base, listed: false, codes, error: `the zone answered with its error code ${errors.join(',')}`, elapsedMs: Date.now() - started }
  }
  if (codes.length === 0) {
    return { ...base, listed: false, error: `answer outside 127.0.0.0/8 (${answer.records.join(',')}), ignored`, elapsedMs: Date.now() - started }
  }

  const txt = await resolver.lookup(name, 'TXT')
  const reason = txt.status === 'ok' ? txt.records.join(' ') : undefined
  return { ...base, listed: true, codes, reason, elapsedMs: Date.now() - started }
}
