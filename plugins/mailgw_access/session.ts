// Per-connection state of the access plugin and the helpers every stage uses: the decision log
// line, the reply as a Haraka DSN, and the client socket timeout of the current SMTP stage.

import path from 'node:path'
import type { ClientFacts, HeloFacts } from '../../src/access/evaluate'
import type { DnsblResults } from '../../src/access/dnsbl'
import { REPLIES, type ReplyName } from '../../src/access/replies'
import type { AccessRule } from '../../src/access/rules'
import { formatDecision, type DecisionVerdict } from '../../src/log/decision'
import { DSN } from '../shared/plugin'

/** The parts of Haraka's connection object that the typings in types/ do not declare. */
export interface HarakaConnectionExtras {
  client?: { setTimeout(ms: number): void }
  capabilities?: string[]
  xclient?: boolean
}

export interface AccessState {
  /** The address the session is counted under, once counted. */
  countedIp: string | null
  /**
   * The counting step in progress, if any. The disconnect hook can run while the connect hook
   * still waits for Redis, so it waits for this before releasing, or the count would leak.
   */
  counting?: Promise<unknown>
  /** Set by the disconnect hook; a counting step that ends later releases at once. */
  disconnected?: boolean
  client: ClientFacts
  /** Lists whose first subject match has a `to` part: decided again for each recipient. */
  connectDeferred: boolean
  helo: HeloFacts | null
  heloDeferred: boolean
  /** Transactions started (MAIL FROM accepted) in this session. */
  messages: number
  /** Bytes of message data received in this session. */
  sessionBytes: number
}

export interface TransactionState {
  mailfromDeferred: boolean
  mailfromFacts: import('../../src/access/evaluate').MailfromFacts | null
  sizeExceeded: boolean
  /** Lines Haraka read as header lines (before the empty line), the empty line not counted. */
  headerLines: number
}

export const NOTE = 'mailgw_access'
/** Where the DNSBL results of the client are kept for the anti-spam stage. */
export const DNSBL_NOTE = 'mailgw_dnsbl'

export function sessionState(connection: Haraka.Connection): AccessState {
  const existing = connection.notes[NOTE] as AccessState | undefined
  if (existing) return existing
  const state: AccessState = {
    countedIp: null,
    client: { ip: connection.remote.ip, verifiedHost: null, inDnsbl: false },
    connectDeferred: false,
    helo: null,
    heloDeferred: false,
    messages: 0,
    sessionBytes: 0,
  }
  connection.notes[NOTE] = state
  return state
}

export function transactionState(txn: Haraka.Transaction): TransactionState {
  const existing = txn.notes[NOTE] as TransactionState | undefined
  if (existing) return existing
  const state: TransactionState = { mailfromDeferred: false, mailfromFacts: null, sizeExceeded: false, headerLines: 0 }
  txn.notes[NOTE] = state
  return state
}

export function dnsblResults(connection: Haraka.Connection): DnsblResults | undefined {
  return connection.notes[DNSBL_NOTE] as DnsblResults | undefined
}

export function reply(name: ReplyName): ReturnType<typeof DSN.create> {
  const r = REPLIES[name]
  return DSN.create(r.code, r.text, r.subject, r.detail)
}

export function ruleName(rule: AccessRule | string): string {
  if (typeof rule === 'string') return rule
  return `${rule.key}@${path.basename(rule.file)}:${rule.line}`
}

export interface DecisionInput {
  verdict: DecisionVerdict
  stage: string
  rule: AccessRule | string
  reason: string
  to?: string
  extra?: Record<string, string | number | boolean | undefined>
}

export function logDecision(plugin: Haraka.Plugin, connection: Haraka.Connection, d: DecisionInput): void {
  const txn = connection.transaction
  const from = txn?.mail_from ? `<${txn.mail_from.address ?? ''}>` : undefined
  connection.loginfo(
    plugin,
    formatDecision({
      id: txn?.uuid ?? connection.uuid,
      verdict: d.verdict,
      stage: d.stage,
      fields: {
        rule: ruleName(d.rule),
        client: connection.remote.ip,
        helo: connection.hello?.host ?? undefined,
        from,
        to: d.to,
        ...d.extra,
        reason: d.reason,
      },
    }),
  )
}

/** Sets how long the client may stay silent in the current stage (socket inactivity). */
export function setClientTimeout(connection: Haraka.Connection, seconds: number): void {
  const client = (connection as Haraka.Connection & HarakaConnectionExtras).client
  client?.setTimeout(seconds * 1000)
}
