// mailgw_route: tells Haraka's outbound queue where each queued message goes, and logs the
// outcome of every delivery attempt; a bounce gets the DSN of the dsn template (dsn.ts).
// Hooks: get_mx, delivered, deferred, bounce. The route is read from the queue file's notes
// (written by mailgw_policy); mail queued by anything else (DSNs, notifications) is routed by
// ForwardRoute on its first recipient. A `MASK domain` route delivers to that domain's MX hosts;
// when the domain is the recipient's own, Haraka's own MX lookup is used. Errors answer DENYSOFT,
// so the message stays queued.

import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { limitConnectionsPerHost, type ClientPool } from '../../src/outbound/host-limit'
import { resolveRoute, type RouteTarget } from '../../src/route/forward'
import { formatDecision } from '../../src/log/decision'
import { constants, safeHook } from '../shared/plugin'
import { gatewayConfig } from '../shared/runtime'
import { sendOwnDsn } from './dsn'

interface MxRecord {
  exchange: string
  priority: number
  port?: number
}

interface NetUtils {
  get_mx(domain: string): Promise<MxRecord[]>
}

export function register(this: Haraka.Plugin): void {
  const config = gatewayConfig()
  const pool = this.haraka_require('outbound/client_pool') as ClientPool
  const perProcess = Math.max(1, Math.floor(config.limits.MaximalOutgoingSessionsPerHost / Math.max(1, config.options.Workers)))
  limitConnectionsPerHost(pool, perProcess)
  this.loginfo(`at most ${perProcess} outgoing connections per host in this process`)

  this.register_hook('get_mx', 'route_mx')
  this.register_hook('delivered', 'log_delivered')
  this.register_hook('deferred', 'log_deferred')
  this.register_hook('bounce', 'log_bounce')
  this.register_hook('bounce', 'send_dsn')
}

export const route_mx = safeHook('get_mx', async function (this: Haraka.Plugin, hmail: Haraka.HMailItem, domain: string) {
  const config = gatewayConfig()
  const target =
    (hmail.todo.notes?.mailgw_route as RouteTarget | undefined) ??
    resolveRoute(config.forward.ForwardRoute, hmail.todo.rcpt_to[0].address).target

  if (target.kind === 'host') {
    const exchanges = await hostAddresses(target.host)
    return { code: constants.ok, msg: exchanges.map((exchange) => ({ exchange, port: target.port, priority: 0 })) }
  }

  // CONT lets Haraka look up the MX of the recipient's own domain, with its NULL MX and
  // implicit-MX handling.
  if (target.domain.toLowerCase() === domain.toLowerCase()) return

  const outbound = this.haraka_require('outbound') as { net_utils: NetUtils }
  const exchanges = await outbound.net_utils.get_mx(target.domain)
  if (exchanges.length === 0) {
    return { code: constants.denysoft, msg: `no MX hosts found for route domain ${target.domain}` }
  }
  return { code: constants.ok, msg: [...exchanges].sort((a, b) => a.priority - b.priority) }
})

function deliveryLine(hmail: Haraka.HMailItem, verdict: 'deliver' | 'tempfail' | 'reject', fields: Record<string, string | number | undefined>) {
  return formatDecision({
    id: hmail.todo.uuid,
    verdict,
    stage: 'delivery',
    fields: {
      from: `<${hmail.todo.mail_from.address ?? ''}>`,
      to: hmail.todo.rcpt_to.map((r) => r.address),
      ...fields,
    },
  })
}

export function log_delivered(this: Haraka.Plugin, next: Haraka.Next, hmail: Haraka.HMailItem, params: unknown[]): void {
  const [host, ip, response, delay, port] = params as [string, string, string, number, number]
  hmail.loginfo(this, deliveryLine(hmail, 'deliver', { host, ip: `${ip}:${port}`, delay, response }))
  next()
}

export function log_deferred(this: Haraka.Plugin, next: Haraka.Next, hmail: Haraka.HMailItem, params: { delay: number; err: unknown }): void {
  hmail.logwarn(this, deliveryLine(hmail, 'tempfail', { retry_in: params.delay, attempts: hmail.num_failures, reason: String(params.err) }))
  next()
}

export function log_bounce(this: Haraka.Plugin, next: Haraka.Next, hmail: Haraka.HMailItem, err: unknown): void {
  const reason = err instanceof Error ? err.message : String(err)
  hmail.logwarn(this, deliveryLine(hmail, 'reject', { attempts: hmail.num_failures, reason }))
  next()
}

/** Sends the DSN from the dsn template; Haraka's own DSN is the fallback (see dsn.ts). */
export function send_dsn(this: Haraka.Plugin, next: Haraka.Next, hmail: Haraka.HMailItem, err: unknown): void {
  // sendOwnDsn catches its own errors: any code other than CONT would stop every DSN.
  void sendOwnDsn(this, hmail, err).then((code) => (code === constants.ok ? next(constants.ok) : next()))
}

/**
 * Resolves the host of a `[host]` route the way the system does, /etc/hosts included, because
 * Haraka looks up an exchange name with DNS queries only and so never finds `localhost`. When the
 * system lookup fails the name is handed to Haraka, whose DNS lookup then decides.
 */
async function hostAddresses(host: string): Promise<string[]> {
  if (isIP(host)) return [host]
  try {
    const found = await lookup(host, { all: true })
    return found.length > 0 ? found.map((a) => a.address) : [host]
  } catch {
    return [host]
  }
}
