// RCPT TO stage: recipients per message, the ConnectRule, HeloRule and MailfromRule decisions
// that were waiting for a recipient, then RelayRule and ProtectedDomains with the relay-trick
// checks. Every recipient the gateway takes gets OK here, because Haraka rejects a recipient
// that no plugin accepts.

import { matchClientRules, matchHeloRules, matchMailfromRules, type RuleOutcome } from '../../src/access/evaluate'
import { recipientProblem } from '../../src/access/canonical'
import { isPostmasterAddress } from '../../src/access/protected'
import { decideRelay } from '../../src/access/relay'
import type { AccessRule } from '../../src/access/rules'
import { constants, type HookResult } from '../shared/plugin'
import { gatewayConfig } from '../shared/runtime'
import { renewSession } from './connect'
import { accessContext } from './context'
import { logDecision, reply, sessionState, setClientTimeout, transactionState } from './session'

export async function checkRcpt(plugin: Haraka.Plugin, connection: Haraka.Connection, params: unknown): Promise<HookResult> {
  const [rcpt] = params as [Haraka.Address]
  const config = gatewayConfig()
  const ctx = accessContext(config, (m) => plugin.logerror(m))
  const state = sessionState(connection)
  const txn = connection.transaction
  const to = `<${rcpt.address}>`
  renewSession(plugin, connection)

  // Haraka appends the recipient to rcpt_to before the rcpt hooks run and removes it on a refusal.
  const accepted = Math.max(0, (txn?.rcpt_to.length ?? 1) - 1)
  if (accepted >= config.limits.MaximalIncomingRcptsPerMessage) {
    logDecision(plugin, connection, {
      verdict: 'tempfail',
      stage: 'rcpt',
      rule: 'MaximalIncomingRcptsPerMessage',
      to,
      reason: `recipient ${accepted + 1} exceeds MaximalIncomingRcptsPerMessage=${config.limits.MaximalIncomingRcptsPerMessage}`,
    })
    return { code: constants.denysoft, msg: reply('tooManyRecipients') }
  }

  const problem = recipientProblem(
    { user: rcpt.user ?? '', host: rcpt.host ?? '', originalHost: (rcpt as Haraka.Address & { original_host?: string }).original_host ?? rcpt.host ?? '' },
    txn?.notes.mailgw_smtputf8 === true,
  )
  if (problem) {
    const reason = problem === 'needs-smtputf8' ? 'non-ASCII address without SMTPUTF8' : 'domain written with look-alike characters'
    logDecision(plugin, connection, { verdict: 'reject', stage: 'rcpt', rule: 'RecipientSyntax', to, reason })
    return { code: constants.deny, msg: reply(problem === 'needs-smtputf8' ? 'needsSmtputf8' : 'nonCanonicalDomain') }
  }

  // Decisions of earlier stages whose first matching rule names recipients.
  const deferred: RuleOutcome<AccessRule>[] = []
  if (state.connectDeferred) deferred.push(matchClientRules(ctx.access.connect, state.client, ctx.access.networks, rcpt.address))
  if (state.heloDeferred && state.helo) deferred.push(matchHeloRules(ctx.access.helo, state.helo, rcpt.address))
  const tstate = txn ? transactionState(txn) : null
  if (tstate?.mailfromDeferred && tstate.mailfromFacts) deferred.push(matchMailfromRules(ctx.access.mailfrom, tstate.mailfromFacts, rcpt.address))
  for (const outcome of deferred) {
    if (outcome.kind !== 'match' || outcome.rule.verdict === 'accept') continue
    const { rule } = outcome
    const deny = rule.verdict === 'deny'
    logDecision(plugin, connection, { verdict: deny ? 'reject' : 'tempfail', stage: 'rcpt', rule, to, reason: `${rule.key} "${rule.text}" matches this recipient` })
    return deny ? { code: constants.deny, msg: reply('recipientDenied') } : { code: constants.denysoft, msg: reply('recipientTempfail') }
  }

  // RFC 5321 requires postmaster to be accepted; the queue step redirects it to Postmaster.
  if (isPostmasterAddress(rcpt.user, rcpt.host, config.network.Hostname)) return accept(connection, config.timeouts.ReceivingDataInitiationTimeout)

  const decision = decideRelay({
    rules: ctx.access.relay,
    client: state.client,
    networks: ctx.access.networks,
    protectedDomains: config.network.ProtectedDomains,
    recipient: { user: rcpt.user ?? '', host: rcpt.host ?? '', original: rcpt.original ?? '', address: rcpt.address },
  })
  if (decision.verdict === 'accept') return accept(connection, config.timeouts.ReceivingDataInitiationTimeout)

  logDecision(plugin, connection, { verdict: decision.verdict === 'deny' ? 'reject' : 'tempfail', stage: 'rcpt', rule: decision.rule, to, reason: decision.reason })
  if (decision.verdict === 'tempfail') return { code: constants.denysoft, msg: reply('recipientTempfail') }
  if (decision.rule === 'RelayTrick') return { code: constants.deny, msg: reply('relayTrick') }
  return { code: constants.deny, msg: reply(decision.rule === 'ProtectedDomains' ? 'relayDenied' : 'recipientDenied') }
}

function accept(connection: Haraka.Connection, dataInitiationTimeout: number): HookResult {
  // The client's next step is another RCPT or DATA; ReceivingDataInitiationTimeout covers both.
  setClientTimeout(connection, dataInitiationTimeout)
  return { code: constants.ok }
}
