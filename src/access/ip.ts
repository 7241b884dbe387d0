// IP addresses and ranges for the access rules: IPv4 and IPv6, written as ADDRESS,
// ADDRESS/BITS or IPv4ADDRESS/NETMASK. Addresses are compared as integers, so a range test is
// one mask and compare. An IPv4-mapped IPv6 address (::ffff:192.0.2.1, as node reports IPv4
// clients on a dual-stack socket) is treated as the IPv4 address it carries.

import { isIP } from 'node:net'

export interface IpRange {
  family: 4 | 6
  /** The network address, host bits cleared. */
  base: bigint
  bits: number
  /** The range as written after normalisation, e.g. 192.168.0.0/16. */
  text: string
}

export interface ParsedIp {
  family: 4 | 6
  value: bigint
}

/** Parses an IPv4 or IPv6 address; returns null when the text is not one. */
export function parseIp(text: string): ParsedIp | null {
  const family = isIP(text)
  if (family === 4) return { family: 4, value: ipv4Value(text) }
  if (family !== 6) return null

  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text)
  if (mapped) return { family: 4, value: ipv4Value(mapped[1]) }
  return { family: 6, value: ipv6Value(text) }
}

function ipv4Value(text: string): bigint {
  return text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n)
}

function ipv6Value(text: string): bigint {
  let address = text.replace(/%.*$/, '')

  // An embedded IPv4 tail (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(address)
  if (v4) {
    const value = ipv4Value(v4[1])
    address = `${address.slice(0, v4.index)}${(value >> 16n).toString(16)}:${(value & 0xffffn).toString(16)}`
  }

  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined]
  const headGroups = head ? head.split(':') : []
  const tailGroups = tail ? tail.split(':') : []
  const missing = 8 - headGroups.length - tailGroups.length
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(missing).fill('0'), ...tailGroups]
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n)
}

function maskOf(family: 4 | 6, bits: number): bigint {
  const width = family === 4 ? 32n : 128n
  const all = (1n << width) - 1n
  return bits === 0 ? 0n : (all << (width - BigInt(bits))) & all
}

/** Converts a dotted IPv4 netmask such as 255.255.0.0 to its prefix length; null if not contiguous. */
export function netmaskBits(mask: string): number | null {
  if (isIP(mask) !== 4) return null
  const binary = ipv4Value(mask).toString(2).padStart(32, '0')
  if (!/^1*0*$/.test(binary)) return null
  const zero = binary.indexOf('0')
  return zero === -1 ? 32 : zero
}

/** Parses ADDRESS, ADDRESS/BITS or IPv4ADDRESS/NETMASK; returns null when invalid. */
export function parseIpRange(text: string): IpRange | null {
  const slash = text.indexOf('/')
  const ip = parseIp(slash === -1 ? text : text.slice(0, slash))
  if (!ip) return null

  // A mapped address keeps its IPv6 prefix length in the text, so convert it to IPv4 bits.
  const writtenFamily = isIP(slash === -1 ? text : text.slice(0, slash)) as 4 | 6
  const writtenMax = writtenFamily === 4 ? 32 : 128
  let bits: number
  if (slash === -1) {
    bits = writtenMax
  } else {
    const suffix = text.slice(slash + 1)
    if (/^\d{1,3}$/.test(suffix)) bits = Number(suffix)
    else if (writtenFamily === 4 && netmaskBits(suffix) !== null) bits = netmaskBits(suffix) as number
    else return null
    if (bits > writtenMax) return null
  }
  if (writtenFamily === 6 && ip.family === 4) {
    if (bits < 96) return null
    bits -= 96
  }

  const base = ip.value & maskOf(ip.family, bits)
  return { family: ip.family, base, bits, text: `${formatIp(ip.family, base)}/${bits}` }
}

export function rangeContains(range: IpRange, ip: ParsedIp | string): boolean {
  const parsed = typeof ip === 'string' ? parseIp(ip) : ip
  if (!parsed || parsed.family !== range.family) return false
  return (parsed.value & maskOf(range.family, range.bits)) === range.base
}

export function formatIp(family: 4 | 6, value: bigint): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.')
  }
  const groups: string[] = []
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(((value >> shift) & 0xffffn).toString(16))
  return compressIpv6(groups)
}

/** Writes the longest run of two or more zero groups as `::` (RFC 5952). */
function compressIpv6(groups: string[]): string {
  let bestStart = -1
  let bestLength = 1
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++
      continue
    }
    let j = i
    while (j < groups.length && groups[j] === '0') j++
    if (j - i > bestLength) {
      bestStart = i
      bestLength = j - i
    }
    i = j
  }
  if (bestStart === -1) return groups.join(':')
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`
}

/**
 * Returns the DNSBL query name of an address (RFC 5782): the IPv4 octets reversed, or the 32
 * nibbles of an IPv6 address reversed, followed by the zone.
 */
export function dnsblQueryName(ip: string, zone: string): string | null {
  const parsed = parseIp(ip)
  if (!parsed) return null
  if (parsed.family === 4) return `${formatIp(4, parsed.value).split('.').reverse().join('.')}.${zone}`
  const nibbles = parsed.value.toString(16).padStart(32, '0').split('').reverse().join('.')
  return `${nibbles}.${zone}`
}

/** Returns the in-addr.arpa or ip6.arpa name of an address, for PTR lookups. */
export function reverseName(ip: string): string | null {
  const parsed = parseIp(ip)
  if (!parsed) return null
  return dnsblQueryName(ip, parsed.family === 4 ? 'in-addr.arpa' : 'ip6.arpa')
}
