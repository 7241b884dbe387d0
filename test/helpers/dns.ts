// A DNS server on loopback for tests: answers A, AAAA, MX, PTR and TXT queries from a table the
// test fills, NXDOMAIN for names not in the table and NODATA for a missing type. A name can be
// made slow (answer after a delay) or silent (never answered) to test timeouts. Every query is
// counted per name, so a test can see whether an answer came from the gateway's cache.

import dgram from 'node:dgram'
import * as packet from 'dns-packet'
import { dnsblQueryName, reverseName } from '../../src/access/ip'

export interface Records {
  A?: string[]
  AAAA?: string[]
  MX?: { exchange: string; priority: number }[]
  PTR?: string[]
  TXT?: string[]
  /** Milliseconds to wait before answering; Infinity = never answer. */
  delayMs?: number
}

export interface TestDns {
  port: number
  /** Sets the records of a name (replacing earlier ones). */
  set(name: string, records: Records): void
  /** Lists `ip` in a DNSBL zone with 127.0.0.2 and a TXT reason. */
  list(zone: string, ip: string, extra?: Partial<Records>): void
  /** Adds a PTR for `ip` and the matching forward record, so the reverse name is verified. */
  reverse(ip: string, host: string, opts?: { forward?: boolean }): void
  /** Queries received for `name`, of one record type when `type` is given. */
  queries(name: string, type?: string): number
  close(): Promise<void>
}

const TTL = 300

export async function startTestDns(): Promise<TestDns> {
  const table = new Map<string, Records>()
  const counts = new Map<string, number>()
  const socket = dgram.createSocket('udp4')
  const timers = new Set<NodeJS.Timeout>()

  socket.on('message', (msg, rinfo) => {
    let query: packet.DecodedPacket
    try {
      query = packet.decode(msg)
    } catch {
      return
    }
    const question = query.questions?.[0]
    if (!question) return
    const name = question.name.toLowerCase()
    counts.set(name, (counts.get(name) ?? 0) + 1)
    counts.set(`${name} ${question.type}`, (counts.get(`${name} ${question.type}`) ?? 0) + 1)

    const records = table.get(name)
    const delay = records?.delayMs ?? 0
    if (delay === Infinity) return

    const reply = () => socket.send(packet.encode(answer(query, question, records)), rinfo.port, rinfo.address)
    if (delay <= 0) return reply()
    const timer = setTimeout(() => {
      timers.delete(timer)
      reply()
    }, delay)
    timers.add(timer)
  })

  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  const { port } = socket.address()

  const set = (name: string, records: Records) => table.set(name.toLowerCase().replace(/\.$/, ''), records)

  return {
    port,
    set,
    list(zone, ip, extra = {}) {
      const name = dnsblQueryName(ip, zone)
      if (!name) throw new Error(`not an IP address: ${ip}`)
      set(name, { A: ['127.0.0.2'], TXT: [`${ip} is listed in ${zone}`], ...extra })
    },
    reverse(ip, host, opts = {}) {
      const name = reverseName(ip)
      if (!name) throw new Error(`not an IP address: ${ip}`)
      set(name, { PTR: [host] })
      if (opts.forward !== false) {
        const existing = table.get(host.toLowerCase()) ?? {}
        set(host, ip.includes(':') ? { ...existing, AAAA: [ip] } : { ...existing, A: [ip] })
      }
    },
    queries: (name, type) => counts.get(`${name.toLowerCase().replace(/\.$/, '')}${type ? ` ${type}` : ''}`) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t)
        socket.close(() => resolve())
      }),
  }
}

function answer(query: packet.DecodedPacket, question: packet.Question, records: Records | undefined): packet.Packet {
  const base = {
    type: 'response' as const,
    id: query.id,
    flags: packet.AUTHORITATIVE_ANSWER | packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE,
    questions: [question],
  }
  const soa: packet.Answer = {
    type: 'SOA',
    name: 'test',
    ttl: TTL,
    data: { mname: 'ns.test', rname: 'hostmaster.test', serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: TTL },
  }
  // dns-packet reads the response code from the low bits of the flags: 3 = NXDOMAIN.
  if (!records) return { ...base, flags: base.flags | 3, authorities: [soa] }

  const name = question.name
  const answers: packet.Answer[] = []
  switch (question.type) {
    case 'A':
    case 'AAAA':
    case 'PTR':
      for (const data of records[question.type] ?? []) answers.push({ type: question.type, name, ttl: TTL, data })
      break
    case 'MX':
      for (const mx of records.MX ?? []) answers.push({ type: 'MX', name, ttl: TTL, data: { exchange: mx.exchange, preference: mx.priority } })
      break
    case 'TXT':
      for (const text of records.TXT ?? []) answers.push({ type: 'TXT', name, ttl: TTL, data: text })
      break
    default:
      break
  }
  return answers.length > 0 ? { ...base, answers } : { ...base, authorities: [soa] }
}
