// Address syntax shared by the config value parsers: IP ranges, HOST:PORT pairs and host names.
// Each function returns null on invalid input so the caller can word the error for its key.

import { isIP } from 'node:net'

import type { HostPort } from './types'

const HOSTNAME_RE = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\.?$/

export function isHostname(text: string): boolean {
  // A last label of digits only is no domain name (RFC 3696 section 2), and this also rejects
  // mistyped addresses such as 10.0.0.300.
  return HOSTNAME_RE.test(text) && !/(^|\.)\d+\.?$/.test(text)
}

export function parsePort(text: string): number | null {
  if (!/^\d{1,5}$/.test(text)) return null
  const port = Number(text)
  return port >= 1 && port <= 65535 ? port : null
}

/** Converts a dotted IPv4 netmask such as 255.255.0.0 to its prefix length; null if not contiguous. */
function netmaskBits(mask: string): number | null {
  if (isIP(mask) !== 4) return null
  const value = mask.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0)
  const binary = value.toString(2).padStart(32, '0')
  if (!/^1*0*$/.test(binary)) return null
  const firstZero = binary.indexOf('0')
  return firstZero === -1 ? 32 : firstZero
}

/** Parses ADDRESS, ADDRESS/BITS or IPv4ADDRESS/NETMASK into `ADDRESS/BITS`. */
export function parseIpRange(text: string): string | null {
  const slash = text.indexOf('/')
  const address = slash === -1 ? text : text.slice(0, slash)
  const family = isIP(address)
  if (family === 0) return null
  const maxBits = family === 4 ? 32 : 128
  if (slash === -1) return `${address}/${maxBits}`

  const suffix = text.slice(slash + 1)
  if (/^\d{1,3}$/.test(suffix)) {
    const bits = Number(suffix)
    return bits <= maxBits ? `${address}/${bits}` : null
  }
  const bits = family === 4 ? netmaskBits(suffix) : null
  return bits === null ? null : `${address}/${bits}`
}

/**
 * Parses IP:PORT, [IPV6]:PORT, or (when defaultPort is given) a bare IP or [IPV6]. The host must
 * be an IP address; a name would make the listening address depend on DNS.
 */
export function parseIpPort(text: string, defaultPort?: number): HostPort | null {
  if (text.startsWith('[')) {
    const close = text.indexOf(']')
    if (close === -1) return null
    const host = text.slice(1, close)
    const rest = text.slice(close + 1)
    if (isIP(host) !== 6) return null
    if (rest === '') return defaultPort === undefined ? null : { host, port: defaultPort }
    const port = rest.startsWith(':') ? parsePort(rest.slice(1)) : null
    return port === null ? null : { host, port }
  }

  if (isIP(text) !== 0) {
    return defaultPort === undefined ? null : { host: text, port: defaultPort }
  }

  const colon = text.lastIndexOf(':')
  if (colon === -1) return null
  const host = text.slice(0, colon)
  const port = parsePort(text.slice(colon + 1))
  if (isIP(host) !== 4 || port === null) return null
  return { host, port }
}

/** Parses HOST:PORT where HOST is a name or an IPv4 address. */
export function parseHostPort(text: string): HostPort | null {
  const colon = text.lastIndexOf(':')
  if (colon === -1) return null
  const host = text.slice(0, colon)
  const port = parsePort(text.slice(colon + 1))
  if (port === null || !(isIP(host) === 4 || isHostname(host))) return null
  return { host, port }
}
