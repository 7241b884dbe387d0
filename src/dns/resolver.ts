// The gateway's DNS client: asks the configured nameservers (or the system's when none are set)
// over UDP, falls back to TCP for a truncated answer, and caches answers for their TTL capped by
// DNSCacheMaximalTTL. One query to one server may take DNSNetworkTimeout; all attempts of one
// lookup together may take DNSResolveTimeout, rotating through the servers. A lookup never
// throws: a timeout or a server failure is returned as `{ status: 'error' }` so that callers can
// treat "unknown" apart from "does not exist". Only successful answers and NXDOMAIN/NODATA are
// cached, never errors.

import dgram from 'node:dgram'
import dns from 'node:dns'
import net from 'node:net'
import { randomInt } from 'node:crypto'
import * as packet from 'dns-packet'
import { TtlCache } from './cache'

export type RecordType = 'A' | 'AAAA' | 'MX' | 'PTR' | 'TXT'

export interface MxRecord {
  exchange: string
  priority: number
}

export interface RecordData {
  A: string
  AAAA: string
  MX: MxRecord
  PTR: string
  TXT: string
}

export type LookupResult<T> =
  | { status: 'ok'; records: T[] }
  | { status: 'nxdomain' }
  | { status: 'nodata' }
  | { status: 'error'; error: string }

export interface Nameserver {
  host: string
  port: number
}

export interface ResolverOptions {
  /** Servers to ask in turn; empty = the system resolvers (from /etc/resolv.conf). */
  servers: Nameserver[]
  /** Seconds one server has to answer one query. */
  networkTimeout: number
  /** Seconds all attempts of one lookup may take together. */
  resolveTimeout: number
  /** Longest time in seconds an answer is cached; 0 = no cache. */
  cacheMaxTtl: number
}

/** Negative answers without an SOA in the authority section are cached this long (seconds). */
const DEFAULT_NEGATIVE_TTL = 60

type Answer = LookupResult<unknown> & { ttl: number }

export class Resolver {
  private readonly cache: TtlCache<LookupResult<unknown>>
  private readonly inflight = new Map<string, Promise<LookupResult<unknown>>>()
  private readonly servers: Nameserver[]

  constructor(private readonly options: ResolverOptions) {
    this.cache = new TtlCache(options.cacheMaxTtl)
    this.servers = options.servers.length > 0 ? options.servers : systemServers()
  }

  async lookup<T extends RecordType>(name: string, type: T): Promise<LookupResult<RecordData[T]>> {
    const key = `${type} ${name.toLowerCase().replace(/\.$/, '')}`
    const cached = this.cache.get(key)
    if (cached) return cached as LookupResult<RecordData[T]>

    // Concurrent lookups of one name (many sessions from one client) share one query.
    let pending = this.inflight.get(key)
    if (!pending) {
      pending = this.resolve(name, type).then((answer) => {
        this.inflight.delete(key)
        const { ttl, ...result } = answer
        if (result.status !== 'error') this.cache.set(key, result, ttl)
        return result as LookupResult<unknown>
      })
      this.inflight.set(key, pending)
    }
    return (await pending) as LookupResult<RecordData[T]>
  }

  private async resolve(name: string, type: RecordType): Promise<Answer> {
    if (this.servers.length === 0) return { status: 'error', error: 'no nameserver configured or found in the system settings', ttl: 0 }

    const deadline = Date.now() + this.options.resolveTimeout * 1000
    const first = randomInt(this.servers.length)
    let lastError = 'no answer'
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      const server = this.servers[(first + attempt) % this.servers.length]
      const timeout = Math.min(this.options.networkTimeout * 1000, deadline - Date.now())
      if (timeout <= 0) break
      try {
        let response = await queryUdp(server, name, type, timeout)
        if (response.flag_tc) response = await queryTcp(server, name, type, Math.max(1, deadline - Date.now()))
        const answer = interpret(response, type)
        if (answer.status !== 'error') return answer
        lastError = `${answer.error} from ${formatServer(server)}`
      } catch (err) {
        lastError = `${(err as Error).message} (${formatServer(server)})`
      }
    }
    return { status: 'error', error: `lookup of ${type} ${name} failed: ${lastError}`, ttl: 0 }
  }
}

function systemServers(): Nameserver[] {
  return dns.getServers().map((text) => {
    const bracket = /^\[(.+)\]:(\d+)$/.exec(text)
    if (bracket) return { host: bracket[1], port: Number(bracket[2]) }
    const v4 = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(text)
    if (v4) return { host: v4[1], port: Number(v4[2]) }
    return { host: text, port: 53 }
  })
}

function formatServer(server: Nameserver): string {
  return server.host.includes(':') ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`
}

function buildQuery(id: number, name: string, type: RecordType): packet.Packet {
  return { type: 'query', id, flags: packet.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] }
}

function queryUdp(server: Nameserver, name: string, type: RecordType, timeoutMs: number): Promise<packet.DecodedPacket> {
  const id = randomInt(65536)
  const socket = dgram.createSocket(net.isIPv6(server.host) ? 'udp6' : 'udp4')
  return new Promise<packet.DecodedPacket>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs)
    const finish = (err: Error | null, response?: packet.DecodedPacket) => {
      clearTimeout(timer)
      socket.close()
      if (err) reject(err)
      else resolve(response as packet.DecodedPacket)
    }
    socket.on('error', (err) => finish(err))
    socket.on('message', (msg, from) => {
      // Anything but the answer to this query from this server is ignored (RFC 5452).
      if (from.port !== server.port) return
      let response: packet.DecodedPacket
      try {
        response = packet.decode(msg)
      } catch {
        return
      }
      if (response.id !== id || !sameQuestion(response, name, type)) return
      finish(null, response)
    })
    socket.send(packet.encode(buildQuery(id, name, type)), server.port, server.host)
  })
}

function queryTcp(server: Nameserver, name: string, type: RecordType, timeoutMs: number): Promise<packet.DecodedPacket> {
  const id = randomInt(65536)
  return new Promise<packet.DecodedPacket>((resolve, reject) => {
    const socket = net.connect({ host: server.host, port: server.port })
    let buffer = Buffer.alloc(0)
    const timer = setTimeout(() => finish(new Error(`TCP query timed out after ${timeoutMs} ms`)), timeoutMs)
    const finish = (err: Error | null, response?: packet.DecodedPacket) => {
      clearTimeout(timer)
      socket.destroy()
      if (err) reject(err)
      else resolve(response as packet.DecodedPacket)
    }
    socket.on('error', (err) => finish(err))
    socket.on('connect', () => socket.write(packet.streamEncode(buildQuery(id, name, type))))
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk])
      if (buffer.length < 2 || buffer.length < 2 + buffer.readUInt16BE(0)) return
      try {
        const response = packet.decode(buffer.subarray(2, 2 + buffer.readUInt16BE(0)))
        if (response.id !== id) return finish(new Error('TCP answer with a wrong query id'))
        finish(null, response)
      } catch (err) {
        finish(new Error(`invalid TCP answer: ${(err as Error).message}`))
      }
    })
  })
}

function sameQuestion(response: packet.DecodedPacket, name: string, type: RecordType): boolean {
  const q = response.questions?.[0]
  return !!q && q.type === type && q.name.toLowerCase() === name.toLowerCase().replace(/\.$/, '')
}

function interpret(response: packet.DecodedPacket, type: RecordType): Answer {
  const rcode = (response as unknown as { rcode?: string }).rcode ?? 'NOERROR'
  const soa = response.authorities?.find((a) => a.type === 'SOA') as packet.SoaAnswer | undefined
  // RFC 2308: a negative answer is cached for the smaller of the SOA's TTL and its minimum field.
  const negativeTtl = soa ? Math.min(soa.ttl ?? DEFAULT_NEGATIVE_TTL, soa.data.minimum ?? DEFAULT_NEGATIVE_TTL) : DEFAULT_NEGATIVE_TTL

  if (rcode === 'NXDOMAIN') return { status: 'nxdomain', ttl: negativeTtl }
  if (rcode !== 'NOERROR') return { status: 'error', error: `server answered ${rcode}`, ttl: 0 }

  const matching = (response.answers ?? []).filter((a) => a.type === type)
  if (matching.length === 0) return { status: 'nodata', ttl: negativeTtl }

  const ttl = Math.min(...matching.map((a) => ('ttl' in a && typeof a.ttl === 'number' ? a.ttl : 0)))
  const records = matching.map((a) => recordData(a, type))
  return { status: 'ok', records, ttl }
}

function recordData(answer: packet.Answer, type: RecordType): unknown {
  if (type === 'MX') {
    const mx = (answer as packet.MxAnswer).data
    return { exchange: mx.exchange, priority: mx.preference }
  }
  if (type === 'TXT') {
    const data = (answer as packet.TxtAnswer).data
    const parts = Array.isArray(data) ? data : [data]
    return parts.map((p) => (Buffer.isBuffer(p) ? p.toString('utf8') : String(p))).join('')
  }
  return (answer as packet.StringAnswer).data
}
