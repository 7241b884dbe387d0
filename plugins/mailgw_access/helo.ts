// HELO/EHLO stage: HeloRule on the addresses of the name the client gives. The name is resolved
// only when a rule tests it; a lookup failure leaves only `any` rules matching.

import { matchHeloRules } from '../../src/access/evaluate'
import { heloFacts } from '../../src/access/facts'
import { constants, type HookResult } from '../shared/plugin'
import { gatewayConfig } from '../shared/runtime'
import { accessContext } from './context'
import { logDecision, reply, sessionState, type HarakaConnectionExtras } from './session'

export async function checkHelo(plugin: Haraka.Plugin, connection: Haraka.Connection, hostname: string): Promise<HookResult> {
  const ctx = accessContext(gatewayConfig(), (m) => plugin.logerror(m))
  const state = sessionState(connection)
  const rules = ctx.access.helo
  state.helo = null
  state.heloDeferred = false
  if (rules.length === 0) return

  const needsDns = rules.some((r) => r.test !== 'any')
  state.helo = needsDns ? await heloFacts(ctx.resolver, hostname, connection.remote.ip) : { kind: 'unknown' }
  const outcome = matchHeloRules(rules, state.helo)
  if (outcome.kind === 'deferred') state.heloDeferred = true
  if (outcome.kind !== 'match' || outcome.rule.verdict === 'accept') return

  const { rule } = outcome
  const verdict = rule.verdict === 'deny' ? 'reject' : 'tempfail'
  logDecision(plugin, connection, { verdict, stage: 'helo', rule, reason: `HeloRule "${rule.text}" matches ${hostname}`, extra: { helo: hostname } })
  return rule.verdict === 'deny' ? { code: constants.deny, msg: reply('heloDenied') } : { code: constants.denysoft, msg: reply('heloTempfail') }
}

/** Advertises MaximalIncomingMessageSize in the SIZE extension (Haraka's own limit is off). */
export function advertiseSize(connection: Haraka.Connection, maxBytes: number): void {
  const extras = connection as Haraka.Connection & HarakaConnectionExtras
  if (!extras.capabilities) return
  extras.capabilities = extras.capabilities.filter((c) => !/^SIZE\b/i.test(c))
  extras.capabilities.push(`SIZE ${maxBytes}`)
}
