// MAIL FROM stage: queue free space, messages per session, the SIZE parameter against the
// message and session size limits, then MailfromRule on the DNS records of the sender's domain.

import { matchMailfromRules } from '../../src/access/evaluate'
import { mailfromFacts } from '../../src/access/facts'
import { constants, type HookResult } from '../shared/plugin'
import { gatewayConfig } from '../shared/runtime'
import { accessContext } from './context'
import { renewSession } from './connect'
import { logDecision, reply, sessionState, transactionState } from './session'

export async function checkMail(plugin: Haraka.Plugin, connection: Haraka.Connection, params: unknown): Promise<HookResult> {
  const [from, esmtp] = params as [Haraka.Address, Record<string, string | null>]
  const config = gatewayConfig()
  const ctx = accessContext(config, (m) => plugin.logerror(m))
  const state = sessionState(connection)
  const txn = connection.transaction
  const { limits } = config
  renewSession(plugin, connection)
  // Haraka upper-cases the names of MAIL FROM parameters; the RCPT stage needs this one.
  if (txn) txn.notes.mailgw_smtputf8 = Object.prototype.hasOwnProperty.call(esmtp ?? {}, 'SMTPUTF8')

  if (!(await ctx.queueSpace.hasRoom(limits.MinimalQueueFreeSpaceSize))) {
    const free = await ctx.queueSpace.freeBytes()
    logDecision(plugin, connection, {
      verdict: 'tempfail',
      stage: 'mail',
      rule: 'MinimalQueueFreeSpaceSize',
      reason: `the queue file system has ${free} bytes free, less than ${limits.MinimalQueueFreeSpaceSize}`,
    })
    return { code: constants.denysoft, msg: reply('queueFull') }
  }

  if (state.messages >= limits.MaximalIncomingMessagesPerSession) {
    logDecision(plugin, connection, {
      verdict: 'tempfail',
      stage: 'mail',
      rule: 'MaximalIncomingMessagesPerSession',
      reason: `message ${state.messages + 1} of the session exceeds MaximalIncomingMessagesPerSession=${limits.MaximalIncomingMessagesPerSession}`,
    })
    return { code: constants.denysoft, msg: reply('tooManyMessages') }
  }

  const declared = Number(esmtp?.SIZE ?? 0)
  const sizeRefusal = checkDeclaredSize(declared, state.sessionBytes, limits.MaximalIncomingMessageSize, limits.MaximalIncomingSessionSize)
  if (sizeRefusal) {
    logDecision(plugin, connection, { verdict: sizeRefusal.verdict, stage: 'mail', rule: sizeRefusal.rule, reason: sizeRefusal.reason })
    return { code: sizeRefusal.verdict === 'reject' ? constants.deny : constants.denysoft, msg: reply(sizeRefusal.reply) }
  }

  const rules = ctx.access.mailfrom
  if (rules.length > 0 && txn) {
    const tstate = transactionState(txn)
    const needsDns = rules.some((r) => r.test !== 'any')
    const domain = from.isNull() ? null : from.host
    tstate.mailfromFacts = needsDns || !domain ? await mailfromFacts(ctx.resolver, domain) : { kind: 'unknown', hasAddress: null, hasMx: null }
    const outcome = matchMailfromRules(rules, tstate.mailfromFacts)
    if (outcome.kind === 'deferred') tstate.mailfromDeferred = true
    if (outcome.kind === 'match' && outcome.rule.verdict !== 'accept') {
      const { rule } = outcome
      const verdict = rule.verdict === 'deny' ? 'reject' : 'tempfail'
      logDecision(plugin, connection, { verdict, stage: 'mail', rule, reason: `MailfromRule "${rule.text}" matches the sender domain ${domain ?? '(null sender)'}` })
      return rule.verdict === 'deny' ? { code: constants.deny, msg: reply('senderDenied') } : { code: constants.denysoft, msg: reply('senderTempfail') }
    }
  }

  state.messages += 1
}

type SizeRefusal = { verdict: 'reject' | 'tempfail'; rule: string; reason: string; reply: 'messageTooBig' | 'sessionTooBig' }

/**
 * Checks the SIZE parameter of MAIL FROM. A message larger than either limit on its own is
 * rejected for good (552 5.3.4). A message that only exceeds what is left of the session size gets
 * a temporary failure (452 4.3.4), so the client sends it in a new session.
 */
export function checkDeclaredSize(declared: number, sessionBytes: number, maxMessage: number, maxSession: number): SizeRefusal | null {
  if (declared > maxMessage) {
    return { verdict: 'reject', rule: 'MaximalIncomingMessageSize', reason: `SIZE=${declared} exceeds MaximalIncomingMessageSize=${maxMessage}`, reply: 'messageTooBig' }
  }
  if (declared > maxSession) {
    return { verdict: 'reject', rule: 'MaximalIncomingSessionSize', reason: `SIZE=${declared} exceeds MaximalIncomingSessionSize=${maxSession}`, reply: 'messageTooBig' }
  }
  if (sessionBytes >= maxSession || sessionBytes + declared > maxSession) {
    return {
      verdict: 'tempfail',
      rule: 'MaximalIncomingSessionSize',
      reason: `${sessionBytes} bytes received in this session plus SIZE=${declared} exceed MaximalIncomingSessionSize=${maxSession}`,
      reply: 'sessionTooBig',
    }
  }
  return null
}
