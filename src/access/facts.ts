// DNS facts the access rules test: the client's verified reverse name, the addresses of the
// HELO/EHLO name, the A/AAAA and MX records of the sender's domain. Each lookup goes through the
// gateway resolver, and a failed or timed-out lookup yields "unknown", never a rule match.

import { isIP } from 'node:net'
import type { LookupResult, Resolver } from '../dns/resolver'
import type { HeloFacts, MailfromFacts } from './evaluate'
import { parseIp, reverseName } from './ip'

/** At most this many PTR names are checked, so a hostile zone cannot make us ask forever. */
const MAX_PTR_NAMES = 5

/**
 * Returns the client's reverse name when a forward lookup of that name returns the client's
 * address again (forward-confirmed reverse DNS), else null.
 */
export async function verifiedReverseName(resolver: Resolver, ip: string): Promise<string | null> {
  const name = reverseName(ip)
  if (!name) return null
  const ptr = await resolver.lookup(name, 'PTR')
  if (ptr.status !== 'ok') return null

  const client = parseIp(ip)
  for (const host of ptr.records.slice(0, MAX_PTR_NAMES)) {
    const addresses = await addressesOf(resolver, host)
    if (addresses === null) continue
    const confirmed = addresses.some((a) => {
      const parsed = parseIp(a)
      return parsed !== null && client !== null && parsed.family === client.family && parsed.value === client.value
    })
    if (confirmed) return host.replace(/\.$/, '').toLowerCase()
  }
  return null
}

/** A and AAAA records of a name; null when either lookup failed, so the answer is unknown. */
async function addressesOf(resolver: Resolver, name: string): Promise<string[] | null> {
  const [a, aaaa] = await Promise.all([resolver.lookup(name, 'A'), resolver.lookup(name, 'AAAA')])
  if (a.status === 'error' || aaaa.status === 'error') return null
  return [...records(a), ...records(aaaa)]
}

function records<T>(result: LookupResult<T>): T[] {
  return result.status === 'ok' ? result.records : []
}

/** Resolves the HELO/EHLO argument: an address literal `[192.0.2.1]` stands for itself. */
export async function heloFacts(resolver: Resolver, helo: string, clientIp: string): Promise<HeloFacts> {
  const literal = /^\[(?:ipv6:)?([^\]]+)\]$/i.exec(helo)?.[1] ?? (isIP(helo) ? helo : null)
  if (literal !== null) return { kind: 'known', addresses: isIP(literal) ? [literal] : [], clientIp }

  const addresses = await addressesOf(resolver, helo)
  return addresses === null ? { kind: 'unknown' } : { kind: 'known', addresses, clientIp }
}

/** Looks up the sender domain's addresses and MX records; null domain = the null sender. */
export async function mailfromFacts(resolver: Resolver, domain: string | null): Promise<MailfromFacts> {
  if (!domain) return { kind: 'null_sender' }
  if (domain.startsWith('[')) {
    const literal = domain.replace(/^\[(?:ipv6:)?|\]$/gi, '')
    return { kind: 'known', hasAddress: isIP(literal) !== 0, hasMx: false }
  }

  const [addresses, mx] = await Promise.all([addressesOf(resolver, domain), resolver.lookup(domain, 'MX')])
  const hasAddress = addresses === null ? null : addresses.length > 0
  // A "null MX" (RFC 7505: one MX with the root as exchange) says the domain takes no mail.
  const hasMx = mx.status === 'error' ? null : records(mx).some((r) => r.exchange !== '' && r.exchange !== '.')
  if (hasAddress === null || hasMx === null) return { kind: 'unknown', hasAddress, hasMx }
  return { kind: 'known', hasAddress, hasMx }
}
