// ForwardRoute values: `MASK DOMAIN` (deliver to the MX hosts of DOMAIN), `MASK [HOST]` (HOST,
// port 25) and `MASK [HOST:PORT]`. Spaces inside the brackets are tolerated because KMG files
// contain them (`[ localhost :1025]`). MASK is normalised to a full address mask.

import { isIP } from 'node:net'

import { isHostname, parsePort } from './net'
import type { ForwardTarget } from './types'

export const FORWARD_ROUTE_EXPECTED = 'expected MASK DOMAIN, MASK [HOST] or MASK [HOST:PORT], e.g. *@example.com [127.0.0.1:2526]'

const MASK_RE = /^[^\s<>@]*@?[^\s<>@]*$/

/**
 * Normalises an address mask as written in mailgw.conf: `any` and `*` become `*@*`, a mask
 * without `@` is a domain mask and becomes `*@DOMAIN`. Returns null when it is no mask at all.
 */
export function normaliseAddressMask(text: string): string | null {
  const lower = text.toLowerCase()
  if (lower === 'any' || lower === 'all' || text === '*') return '*@*'
  if (text === '' || !MASK_RE.test(text)) return null
  if (!text.includes('@')) return `*@${text}`
  const at = text.indexOf('@')
  if (at === 0 || at === text.length - 1) return null
  return text
}

/** Parses the part after the mask; null when it is not one of the three forms. */
export function parseForwardTarget(text: string): ForwardTarget | null {
  if (!text.startsWith('[')) {
    return isHostname(text) && isIP(text) === 0 ? { kind: 'mx', domain: text.replace(/\.$/, '') } : null
  }
  if (!text.endsWith(']')) return null

  const inner = text.slice(1, -1).replace(/\s+/g, '')
  if (isIP(inner) === 6) return { kind: 'host', host: inner, port: 25 }

  const colon = inner.lastIndexOf(':')
  const host = colon === -1 ? inner : inner.slice(0, colon)
  const port = colon === -1 ? 25 : parsePort(inner.slice(colon + 1))
  if (port === null) return null
  if (isIP(host) !== 4 && !isHostname(host)) return null
  return { kind: 'host', host, port }
}

export function parseForwardRoute(text: string): { mask: string; target: ForwardTarget } | null {
  const match = /^(\S+)\s+(.+)$/.exec(text)
  if (!match) return null
  const mask = normaliseAddressMask(match[1])
  const target = parseForwardTarget(match[2].trim())
  if (mask === null || target === null) return null
  return { mask, target }
}
