// The access rule language of [mailgw.access]. Parses one ConnectRule, HeloRule, MailfromRule or
// RelayRule line into a typed rule, or an error that says what is wrong with it. Both forms parse:
//
//   ConnectRule=deny for ip 10.10.138.99              VERDICT [for] SUBJECT
//   RelayRule=allow from 192.168.0.0/16 to *          VERDICT [from SUBJECT] [to MASKS]
//   HeloRule=deny from no_ip to *@example.com         the older form of KMG 5.x, for every key
//
// Verdicts: accept (alias allow), deny (alias reject), tempfail. A client subject is any, in_dnsbl,
// ip LIST, network LIST, host LIST, or a bare LIST (IP ranges, else host masks). A LIST is
// comma-separated, and an item `file:PATH` stands for the lines of that file (blank lines and
// `#` comments skipped; PATH relative to the directory of mailgw.conf). `to` takes address masks
// (`*@example.com`, or a domain mask such as `example.com`) in the same list form.

import { readFileSync } from 'node:fs'
import { isAbsolute, join } from 'node:path'
import { isMatchAll } from '../match/mask'
import { parseIpRange, type IpRange } from './ip'

export type RuleKey = 'ConnectRule' | 'HeloRule' | 'MailfromRule' | 'RelayRule'
export type Verdict = 'accept' | 'deny' | 'tempfail'

export type ClientSubject =
  | { kind: 'any' }
  | { kind: 'in_dnsbl' }
  | { kind: 'ip'; ranges: IpRange[] }
  | { kind: 'network'; names: string[] }
  | { kind: 'host'; masks: string[] }

export const HELO_TESTS = ['any', 'has_ip', 'no_ip', 'same_ip', 'diff_ip'] as const
export const MAILFROM_TESTS = ['any', 'has_ip', 'no_ip', 'has_mx', 'no_mx'] as const
export type HeloTest = (typeof HELO_TESTS)[number]
export type MailfromTest = (typeof MAILFROM_TESTS)[number]

interface RuleBase {
  verdict: Verdict
  /** Recipient masks; null when the rule applies to every recipient. */
  to: string[] | null
  text: string
  file: string
  line: number
}

export type ClientRule = RuleBase & { key: 'ConnectRule' | 'RelayRule'; subject: ClientSubject }
export type HeloRule = RuleBase & { key: 'HeloRule'; test: HeloTest }
export type MailfromRule = RuleBase & { key: 'MailfromRule'; test: MailfromTest }
export type AccessRule = ClientRule | HeloRule | MailfromRule

export interface RuleSource {
  text: string
  file: string
  line: number
}

export type RuleParse<R> = { ok: true; rule: R } | { ok: false; error: string; file: string; line: number }

const VERDICTS: Record<string, Verdict> = {
  accept: 'accept',
  allow: 'accept',
  deny: 'deny',
  reject: 'deny',
  tempfail: 'tempfail',
}

const SYNTAX: Record<RuleKey, string> = {
  ConnectRule: 'VERDICT [for] any | in_dnsbl | ip LIST | network LIST | host LIST',
  HeloRule: `VERDICT [for] ${HELO_TESTS.join(' | ')}`,
  MailfromRule: `VERDICT [for] ${MAILFROM_TESTS.join(' | ')}`,
  RelayRule: 'VERDICT [from SUBJECT] [to MASKS]',
}

class RuleError extends Error {}

/** Parses one rule line of the given key; `baseDir` anchors relative file: paths. */
export function parseRule(key: 'ConnectRule' | 'RelayRule', source: RuleSource, baseDir: string): RuleParse<ClientRule>
export function parseRule(key: 'HeloRule', source: RuleSource, baseDir: string): RuleParse<HeloRule>
export function parseRule(key: 'MailfromRule', source: RuleSource, baseDir: string): RuleParse<MailfromRule>
export function parseRule(key: RuleKey, source: RuleSource, baseDir: string): RuleParse<AccessRule>
export function parseRule(key: RuleKey, source: RuleSource, baseDir: string): RuleParse<AccessRule> {
  try {
    return { ok: true, rule: parseOrThrow(key, source, baseDir) }
  } catch (err) {
    if (!(err instanceof RuleError)) throw err
    return { ok: false, error: `invalid ${key} "${source.text}": ${err.message}; expected ${SYNTAX[key]}`, file: source.file, line: source.line }
  }
}

function parseOrThrow(key: RuleKey, source: RuleSource, baseDir: string): AccessRule {
  // Commas may be written with spaces around them; a list is one token from here on.
  const tokens = source.text.trim().replace(/\s*,\s*/g, ',').split(/\s+/).filter(Boolean)
  const verdict = VERDICTS[(tokens.shift() ?? '').toLowerCase()]
  if (!verdict) throw new RuleError('the rule must start with accept, allow, deny, reject or tempfail')

  const toIndex = tokens.findIndex((t) => t.toLowerCase() === 'to')
  const subjectTokens = toIndex === -1 ? tokens : tokens.slice(0, toIndex)
  const toTokens = toIndex === -1 ? null : tokens.slice(toIndex + 1)

  if (subjectTokens.length > 0 && ['for', 'from'].includes(subjectTokens[0].toLowerCase())) subjectTokens.shift()
  const to = toTokens === null ? null : parseRecipientMasks(toTokens, baseDir)
  const base = { verdict, to, text: source.text, file: source.file, line: source.line }

  if (key === 'HeloRule' || key === 'MailfromRule') {
    const tests: readonly string[] = key === 'HeloRule' ? HELO_TESTS : MAILFROM_TESTS
    if (subjectTokens.length !== 1) throw new RuleError(`expected one test (${tests.join(', ')})`)
    const test = subjectTokens[0].toLowerCase()
    if (!tests.includes(test)) throw new RuleError(`unknown test "${subjectTokens[0]}"`)
    return key === 'HeloRule' ? { ...base, key, test: test as HeloTest } : { ...base, key, test: test as MailfromTest }
  }

  if (subjectTokens.length === 0) {
    if (key === 'RelayRule' && to !== null) return { ...base, key, subject: { kind: 'any' } }
    throw new RuleError(key === 'RelayRule' ? 'a RelayRule needs "from SUBJECT", "to MASKS" or both' : 'the client subject is missing')
  }
  return { ...base, key, subject: parseClientSubject(subjectTokens, baseDir) }
}

function parseClientSubject(tokens: string[], baseDir: string): ClientSubject {
  const word = tokens[0].toLowerCase()
  if (tokens.length === 1 && isMatchAll(word)) return { kind: 'any' }
  if (tokens.length === 1 && word === 'in_dnsbl') return { kind: 'in_dnsbl' }

  if (word === 'ip' || word === 'network' || word === 'host') {
    if (tokens.length !== 2) throw new RuleError(`expected one list after "${word}"`)
    const items = expandList(tokens[1], baseDir)
    if (word === 'ip') return { kind: 'ip', ranges: items.map(parseRangeItem) }
    if (word === 'network') return { kind: 'network', names: items.map(checkNetworkName) }
    return { kind: 'host', masks: items.map(checkHostMask) }
  }

  // The older form names the client without a keyword: `from 192.168.0.0/16` or `from *.example.com`.
  if (tokens.length !== 1) throw new RuleError(`unexpected "${tokens.slice(1).join(' ')}"`)
  const items = expandList(tokens[0], baseDir)
  if (items.every((item) => parseIpRange(item) !== null)) return { kind: 'ip', ranges: items.map(parseRangeItem) }
  // A bare word without a dot or wildcard is far more often a mistyped keyword (in_dnsbll) than a
  // single-label host name, so it needs the explicit `host` keyword.
  for (const item of items) {
    if (parseIpRange(item) === null && !/[.*?]/.test(item)) {
      throw new RuleError(`"${item}" is not a known subject (any, in_dnsbl, ip, network, host) nor a host mask; write "host ${item}" for a one-label host name`)
    }
  }
  return { kind: 'host', masks: items.map(checkHostMask) }
}

function parseRecipientMasks(tokens: string[], baseDir: string): string[] | null {
  if (tokens.length !== 1) throw new RuleError(tokens.length === 0 ? 'a recipient mask is missing after "to"' : `unexpected "${tokens.slice(1).join(' ')}" after the recipient masks`)
  const masks = expandList(tokens[0], baseDir)
  for (const mask of masks) {
    if (!/^[^\s<>,]+$/.test(mask) || (mask.match(/@/g) ?? []).length > 1) throw new RuleError(`"${mask}" is not an address mask such as *@example.com`)
  }
  return masks.some((m) => isMatchAll(m) || m === '*@*') ? null : masks
}

/** Splits a comma list and replaces each `file:PATH` item with the lines of that file. */
function expandList(token: string, baseDir: string): string[] {
  const items: string[] = []
  for (const item of token.split(',')) {
    if (item === '') continue
    if (!item.toLowerCase().startsWith('file:')) {
      items.push(item)
      continue
    }
    const written = item.slice('file:'.length)
    if (written === '') throw new RuleError('a path is missing after file:')
    const path = isAbsolute(written) ? written : join(baseDir, written)
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      throw new RuleError(`cannot read list file "${path}" (${code === 'ENOENT' ? 'file not found' : (err as Error).message})`)
    }
    const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
    if (lines.length === 0) throw new RuleError(`list file "${path}" has no entries`)
    items.push(...lines.flatMap((l) => l.split(/\s*,\s*/)).filter(Boolean))
  }
  if (items.length === 0) throw new RuleError('the list is empty')
  return items
}

function parseRangeItem(item: string): IpRange {
  const range = parseIpRange(item)
  if (!range) throw new RuleError(`"${item}" is not an IP address, ADDRESS/BITS or IPv4 ADDRESS/NETMASK`)
  return range
}

function checkNetworkName(item: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(item)) throw new RuleError(`"${item}" is not a network name`)
  return item
}

function checkHostMask(item: string): string {
  if (!/^[A-Za-z0-9*?._-]+$/.test(item)) throw new RuleError(`"${item}" is not a host name mask such as *.example.com`)
  return item
}
