// Reads the Received chain (newest first, as headers are prepended) and checks it for the
// anomalies that forged chains show (SpamCheckReceived): hops without a parseable date, a hop
// dated well after the hop that received the message from it, a hop dated in the future
// relative to the newest hop. It also lists the relay addresses of the chain, which the DNSBL
// check looks up after the client's own address.

import net from 'node:net'
import { isUnlistedAddress } from '../access/dnsbl'
import type { MessageView } from './message-view'
import { headerValues } from './message-view'
import { sign, type Sign } from './signs'

export interface ReceivedHop {
  /** The address in brackets of the `from` clause, when there is one. */
  ip: string | null
  date: Date | null
  raw: string
}

/** Clock differences up to this are normal between relays. */
const CLOCK_SKEW_MS = 2 * 60 * 60 * 1000
/** At most this many hops are read; longer chains are themselves a sign. */
const MAX_HOPS = 30

export function parseReceived(view: MessageView): ReceivedHop[] {
  return headerValues(view, 'received').slice(0, MAX_HOPS).map(parseHop)
}

export function parseHop(raw: string): ReceivedHop {
  const semicolon = raw.lastIndexOf(';')
  const dateText = semicolon >= 0 ? raw.slice(semicolon + 1).trim() : ''
  const parsedDate = dateText ? new Date(dateText.replace(/\([^)]*\)/g, '').trim()) : null
  const date = parsedDate && !Number.isNaN(parsedDate.getTime()) ? parsedDate : null

  const fromClause = /^\s*from\s+([\s\S]*?)(?:\s+by\s|$)/i.exec(raw)?.[1] ?? ''
  const candidates = [...fromClause.matchAll(/\[(?:IPv6:)?([0-9a-fA-F:.]+)\]/g)].map((m) => m[1])
  const ip = candidates.find((c) => net.isIP(c) !== 0) ?? null
  return { ip, date, raw }
}

/** Returns the public relay addresses of the chain, the client's own address excluded. */
export function relayAddresses(hops: readonly ReceivedHop[], clientIp: string): string[] {
  const seen = new Set<string>([clientIp])
  const relays: string[] = []
  for (const hop of hops) {
    if (!hop.ip || seen.has(hop.ip) || isUnlistedAddress(hop.ip)) continue
    seen.add(hop.ip)
    relays.push(hop.ip)
  }
  return relays
}

export function receivedSigns(hops: readonly ReceivedHop[]): Sign[] {
  const signs: Sign[] = []
  if (headerCountTooHigh(hops)) signs.push(sign('ReceivedTooManyHops', 'received', 2, `${hops.length} Received headers`))

  const undated = hops.filter((h) => h.date === null).length
  if (undated > 0) signs.push(sign('ReceivedNoDate', 'received', 2, `${undated} Received header(s) without a valid date`))

  const dated = hops.filter((h): h is ReceivedHop & { date: Date } => h.date !== null)
  const newest = dated[0]?.date.getTime()
  if (newest !== undefined && dated.some((h) => h.date.getTime() - newest > CLOCK_SKEW_MS)) {
    signs.push(sign('ReceivedFutureDate', 'received', 2, 'a relay dated after the newest Received header'))
  }
  for (let i = 0; i + 1 < dated.length; i++) {
    // dated[i + 1] handed the message to dated[i], so it cannot be much later.
    if (dated[i + 1].date.getTime() - dated[i].date.getTime() > CLOCK_SKEW_MS) {
      signs.push(sign('ReceivedOutOfOrder', 'received', 2, 'Received dates out of order'))
      break
    }
  }
  return signs
}

function headerCountTooHigh(hops: readonly ReceivedHop[]): boolean {
  return hops.length >= MAX_HOPS
}
