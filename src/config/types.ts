// Value shapes of the parsed mailgw.conf. Every item that came from a line of a file keeps that
// file and line, so later checks (rule parsing, routing logs) can point back at the source.

export interface ConfigError {
  file: string
  line: number
  message: string
}

/** A host (IP address or name, never in brackets) and a TCP port. */
export interface HostPort {
  host: string
  port: number
}

/** Address of clamd: a Unix socket path or a TCP address. */
export type ClamdAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number }

export type ForwardTarget = { kind: 'mx'; domain: string } | { kind: 'host'; host: string; port: number }

/** One ForwardRoute line; `mask` is a full address mask (`*@example.com`, `*@*` for any). */
export interface ForwardRoute {
  mask: string
  target: ForwardTarget
  file: string
  line: number
}

/** An access rule kept as written; the rule grammar is applied by the access module. */
export interface RuleLine {
  text: string
  file: string
  line: number
}

export interface DnsblZone {
  zone: string
  rating: number
  file: string
  line: number
}

/** A Network= entry; each range is `ADDRESS/BITS` (a single address gets /32 or /128). */
export interface NamedNetwork {
  name: string
  ranges: string[]
  file: string
  line: number
}

/**
 * One Senders= value. `address` and `host` carry a wildcard mask, `ip` a range as `ADDRESS/BITS`,
 * `network` the name of a Network= entry of [mailgw.network] (checked to exist).
 */
export type SenderSpec = { text: string; file: string; line: number } & (
  | { kind: 'address'; mask: string }
  | { kind: 'ip'; range: string }
  | { kind: 'host'; mask: string }
  | { kind: 'network'; name: string }
)

export type SpamStatus = 'as/spam' | 'as/probable' | 'as/formal' | 'as/blacklisted'

export type AvStatus =
  | 'av/clean'
  | 'av/infected'
  | 'av/disinfected'
  | 'av/suspicious'
  | 'av/protected'
  | 'av/error'
  | 'av/not_checked'
  | 'av/filtered'

export type MessageStatus = SpamStatus | AvStatus

export const SPAM_STATUSES: readonly SpamStatus[] = ['as/spam', 'as/probable', 'as/formal', 'as/blacklisted']

export const AV_STATUSES: readonly AvStatus[] = [
  'av/clean',
  'av/infected',
  'av/disinfected',
  'av/suspicious',
  'av/protected',
  'av/error',
  'av/not_checked',
  'av/filtered',
]
