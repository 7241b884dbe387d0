// SPF (RFC 7208) through the SPF class of haraka-plugin-spf, fed by the gateway's own resolver so
// the check uses the configured nameservers and cache, per group and per message, instead of the
// plugin's connection-wide result. The class asks node:dns/promises-style methods, which the
// adapter below provides on top of Resolver, with the error codes node uses for "no such name"
// and "no data" so that the class counts void lookups correctly.
// NOTE: haraka-plugin-spf 1.3.0 resolves the `mx` mechanism through haraka-net-utils, i.e. the
// system resolver, not this adapter; a record with `mx` is checked against the system's DNS.

import { reverseName } from '../access/ip'
import type { LookupResult, RecordType, Resolver } from '../dns/resolver'

export type SpfResult = 'None' | 'Pass' | 'Fail' | 'SoftFail' | 'Neutral' | 'TempError' | 'PermError'

interface SpfInstance {
  helo: string
  resolver: unknown
  dns_timeout_ms: number
  log_debug(text: string): void
  check_host(ip: string, domain: string, mailFrom?: string): Promise<number>
  result(code: number): string
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- haraka-plugin-spf ships no type declarations
const { SPF } = require('haraka-plugin-spf/lib/spf') as { SPF: new () => SpfInstance }

export async function checkSpf(resolver: Resolver, ip: string, domain: string, mailFrom: string, helo: string, timeoutMs: number): Promise<SpfResult> {
  const spf = new SPF()
  spf.helo = helo
  spf.resolver = resolverAdapter(resolver)
  spf.dns_timeout_ms = timeoutMs
  spf.log_debug = () => undefined
  const code = await spf.check_host(ip, domain, mailFrom || undefined)
  return spf.result(code) as SpfResult
}

class LookupError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

async function records<T extends RecordType>(resolver: Resolver, name: string, type: T) {
  const answer = await resolver.lookup(name, type)
  return unwrap(answer, name, type)
}

function unwrap<V>(answer: LookupResult<V>, name: string, type: string): V[] {
  switch (answer.status) {
    case 'ok':
      return answer.records
    case 'nxdomain':
      throw new LookupError('ENOTFOUND', `${type} ${name}: no such name`)
    case 'nodata':
      throw new LookupError('ENODATA', `${type} ${name}: no ${type} records`)
    case 'error':
      throw new LookupError('ESERVFAIL', answer.error)
  }
}

function resolverAdapter(resolver: Resolver) {
  return {
    resolveTxt: async (name: string) => (await records(resolver, name, 'TXT')).map((text) => [text]),
    resolve: (name: string) => records(resolver, name, 'A'),
    resolve4: (name: string) => records(resolver, name, 'A'),
    resolve6: (name: string) => records(resolver, name, 'AAAA'),
    resolveMx: async (name: string) => (await records(resolver, name, 'MX')).map((mx) => ({ exchange: mx.exchange, priority: mx.priority })),
    reverse: async (ip: string) => records(resolver, reverseName(ip) ?? ip, 'PTR'),
  }
}
