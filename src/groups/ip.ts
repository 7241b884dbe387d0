// IP range tests for Senders= (`ip A/BITS`) and named networks (`network NAME`). Ranges arrive as
// `ADDRESS/BITS` from the config parser; an IPv4-mapped IPv6 client address (::ffff:192.0.2.1),
// as node reports a v4 client on a dual-stack socket, is tested as the IPv4 address it carries.

import { BlockList, isIP } from 'node:net'

/** Builds a BlockList that holds every `ADDRESS/BITS` range; an invalid range throws. */
export function rangeList(ranges: readonly string[]): BlockList {
  const list = new BlockList()
  for (const range of ranges) {
    const slash = range.indexOf('/')
    const address = slash === -1 ? range : range.slice(0, slash)
    const family = isIP(address)
    if (family === 0) throw new Error(`invalid IP range "${range}": expected ADDRESS/BITS`)
    const bits = slash === -1 ? (family === 4 ? 32 : 128) : Number(range.slice(slash + 1))
    list.addSubnet(address, bits, family === 4 ? 'ipv4' : 'ipv6')
  }
  return list
}

/** Returns the address in the form ranges are tested against, or null when it is no IP address. */
export function normaliseClientIp(ip: string): { address: string; family: 'ipv4' | 'ipv6' } | null {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
  const address = mapped ? mapped[1] : ip
  const family = isIP(address)
  if (family === 0) return null
  return { address, family: family === 4 ? 'ipv4' : 'ipv6' }
}

export function ipInList(list: BlockList, ip: string): boolean {
  const client = normaliseClientIp(ip)
  return client !== null && list.check(client.address, client.family)
}
