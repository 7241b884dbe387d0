// Connect stage: session limits (IncomingSessions, MaximalIncomingSessionsPerIP), the DNSBL
// lookups and the verified reverse name of the client, then ConnectRule.
// XCLIENT runs this stage again for the address it names, so everything here is idempotent:
// the session stays counted once (moved to the new address), and the facts and rules are
// evaluated again for the new address.

import { lookupDnsbl } from '../../src/access/dnsbl'
import { matchClientRules } from '../../src/access/evaluate'
import { verifiedReverseName } from '../../src/access/facts'
import type { MailgwConfig } from '../../src/config'
import { constants, type HookResult } from '../shared/plugin'
import { gatewayConfig } from '../shared/runtime'
import { accessContext, type AccessContext } from './context'
import { DNSBL_NOTE, logDecision, reply, sessionState, setClientTimeout, type AccessState, type HarakaConnectionExtras } from './session'

const SESSION_ID = 'mailgw_session_id'
const CLIENT_HOST_NOTE = 'mailgw_client_host'

function groupsSelectByHost(config: MailgwConfig): boolean {
  return config.groups.some((g) => g.Senders?.some((s) => s.kind === 'host') ?? false)
}

export async function checkConnect(plugin: Haraka.Plugin, connection: Haraka.Connection): Promise<HookResult> {
  const config = gatewayConfig()
  const ctx = accessContext(config, (m) => plugin.logerror(m))
  const state = sessionState(connection)
  const ip = connection.remote.ip
  setClientTimeout(connection, config.timeouts.ReceivingCommandTimeout)

  const counting = countSession(plugin, connection, ctx, state, ip)
  state.counting = counting
  const limited = await counting
  if (limited) return limited

  const needsName = ctx.access.needsReverseName || groupsSelectByHost(config)
  const [dnsbl, verifiedHost] = await Promise.all([
    lookupDnsbl(ctx.resolver, ip, config.access.DNSBlackList),
    needsName ? verifiedReverseName(ctx.resolver, ip) : Promise.resolve(null),
  ])
  connection.notes[DNSBL_NOTE] = dnsbl
  // The policy stage matches `Senders=host MASK` against this forward-confirmed name only.
  connection.notes[CLIENT_HOST_NOTE] = verifiedHost
  for (const zone of dnsbl.zones) {
    if (zone.error) connection.logwarn(plugin, `DNSBL ${zone.zone} for ${ip}: ${zone.error}; the zone counts as not listing the client`)
  }

  state.client = { ip, verifiedHost, inDnsbl: dnsbl.inDnsbl }
  state.connectDeferred = false
  state.helo = null
  state.heloDeferred = false

  const outcome = matchClientRules(ctx.access.connect, state.client, ctx.access.networks)
  if (outcome.kind === 'deferred') state.connectDeferred = true
  if (outcome.kind !== 'match' || outcome.rule.verdict === 'accept') return

  const { rule } = outcome
  const extra = { dnsbl_score: dnsbl.zones.length > 0 ? dnsbl.score : undefined, host: verifiedHost ?? undefined }
  if (rule.verdict === 'deny') {
    logDecision(plugin, connection, { verdict: 'reject', stage: 'connect', rule, reason: `ConnectRule "${rule.text}" denies the client`, extra })
    // DENY at connect puts Haraka in a loop that answers 554 to every command until QUIT.
    return { code: constants.deny, msg: reply('connectDenied') }
  }
  logDecision(plugin, connection, { verdict: 'tempfail', stage: 'connect', rule, reason: `ConnectRule "${rule.text}" tempfails the client`, extra })
  return { code: constants.denysoftdisconnect, msg: reply('connectTempfail') }
}

/**
 * Counts the session once and moves it when XCLIENT changes the address. The loopback address
 * of an XCLIENT proxy is not held to the per-address limit, because it speaks for many clients.
 */
async function countSession(plugin: Haraka.Plugin, connection: Haraka.Connection, ctx: AccessContext, state: AccessState, ip: string): Promise<HookResult> {
  if (state.countedIp === ip) return

  const id = (connection.notes[SESSION_ID] as string | undefined) ?? connection.uuid
  connection.notes[SESSION_ID] = id
  if (state.countedIp !== null) await ctx.counter.release(id, state.countedIp)
  const counts = await ctx.counter.acquire(id, ip)
  state.countedIp = ip
  if (state.disconnected) {
    await ctx.counter.release(id, ip)
    state.countedIp = null
    return { code: constants.denysoftdisconnect, msg: reply('tooManySessions') }
  }

  const { limits, options } = ctx.config
  const isProxy = options.Xclient && !(connection as Haraka.Connection & HarakaConnectionExtras).xclient && (ip === '127.0.0.1' || ip === '::1')
  const overTotal = counts.total > limits.IncomingSessions
  const overPerIp = !isProxy && counts.perIp > limits.MaximalIncomingSessionsPerIP
  if (!overTotal && !overPerIp) return

  await ctx.counter.release(id, ip)
  state.countedIp = null
  const rule = overTotal ? 'IncomingSessions' : 'MaximalIncomingSessionsPerIP'
  const limit = overTotal ? limits.IncomingSessions : limits.MaximalIncomingSessionsPerIP
  logDecision(plugin, connection, {
    verdict: 'tempfail',
    stage: 'connect',
    rule,
    reason: `${overTotal ? counts.total : counts.perIp} sessions would exceed ${rule}=${limit} (counted in ${ctx.counterScope})`,
  })
  return { code: constants.denysoftdisconnect, msg: reply(overTotal ? 'tooManySessions' : 'tooManySessionsFromIp') }
}

export async function releaseSession(plugin: Haraka.Plugin, connection: Haraka.Connection): Promise<void> {
  const state = connection.notes['mailgw_access'] as AccessState | undefined
  if (!state) return
  state.disconnected = true
  await state.counting?.catch(() => undefined)

  const id = connection.notes[SESSION_ID] as string | undefined
  if (state.countedIp === null || !id) return
  const ctx = accessContext(gatewayConfig(), (m) => plugin.logerror(m))
  await ctx.counter.release(id, state.countedIp)
  state.countedIp = null
}

export function renewSession(plugin: Haraka.Plugin, connection: Haraka.Connection): void {
  const state = connection.notes['mailgw_access'] as AccessState | undefined
  const id = connection.notes[SESSION_ID] as string | undefined
  if (!state || state.countedIp === null || !id) return
  const ctx = accessContext(gatewayConfig(), (m) => plugin.logerror(m))
  void ctx.counter.renew(id, state.countedIp)
}
