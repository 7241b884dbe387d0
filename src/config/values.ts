// Parsers for one value (one item of a list) of each ValueKind of the schema. A parser returns
// the parsed item, or `expected` text that the caller puts into an "invalid value" message.

import { isAbsolute } from 'node:path'

import { FORWARD_ROUTE_EXPECTED, normaliseAddressMask, parseForwardRoute } from './forward'
import { isHostname, parseHostPort, parseIpPort, parseIpRange } from './net'
import type { KeySpec } from './schema'
import { AV_STATUSES, SPAM_STATUSES } from './types'

export type ItemResult = { ok: true; value: unknown } | { ok: false; expected: string }

/** File and line of a value, copied into the items that keep their source. */
export interface ValueSource {
  file: string
  line: number
}

const BOOLEANS: Record<string, boolean> = {
  true: true,
  yes: true,
  y: true,
  on: true,
  '1': true,
  false: false,
  no: false,
  n: false,
  off: false,
  '0': false,
}

const DURATION_SUFFIX: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 }
const DURATION_UNIT: Record<string, number> = { seconds: 1, days: 86400 }
const SIZE_UNIT: Record<string, number> = { KB: 1024, MB: 1024 * 1024 }
const SIZE_SUFFIX: Record<string, number> = { k: 1024, m: 1024 * 1024, g: 1024 * 1024 * 1024 }

/** Legacy names from KMG 5.0 files, without the av/ or as/ prefix. */
const BARE_STATUS: Record<string, string> = {
  clean: 'av/clean',
  infected: 'av/infected',
  disinfected: 'av/disinfected',
  suspicious: 'av/suspicious',
  protected: 'av/protected',
  error: 'av/error',
  not_checked: 'av/not_checked',
  notchecked: 'av/not_checked',
  filtered: 'av/filtered',
  spam: 'as/spam',
  probable: 'as/probable',
  formal: 'as/formal',
  blacklisted: 'as/blacklisted',
}

const STATUS_ORDER: readonly string[] = [...SPAM_STATUSES, ...AV_STATUSES]

/** KMG 5.0 meant by `all` every status worth acting on, which excludes clean and not_checked. */
const LEGACY_ALL = ['av/disinfected', 'av/infected', 'av/suspicious', 'av/protected', 'av/error', 'av/filtered']

/** Formats seconds with the largest suffix that divides them exactly, e.g. 64800 -> 18h. */
export function formatDuration(seconds: number): string {
  for (const [suffix, factor] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
    if (seconds > 0 && seconds % factor === 0) return `${seconds / factor}${suffix}`
  }
  return `${seconds}s`
}

export function sizeFactor(spec: KeySpec): number {
  return SIZE_UNIT[spec.unit ?? 'KB'] ?? 1024
}

export function durationFactor(spec: KeySpec): number {
  return DURATION_UNIT[spec.unit ?? 'seconds'] ?? 1
}

function expectedInteger(spec: KeySpec): string {
  return `expected an integer from ${spec.min} to ${spec.max}`
}

function expectedDuration(spec: KeySpec): string {
  return (
    `expected a duration from ${formatDuration(spec.min ?? 0)} to ${formatDuration(spec.max ?? 0)}: ` +
    `a plain number counts ${spec.unit ?? 'seconds'}, or add s, m, h or d`
  )
}

function expectedSize(spec: KeySpec): string {
  const factor = sizeFactor(spec)
  return (
    `expected a size from ${(spec.min ?? 0) / factor} to ${(spec.max ?? 0) / factor} ${spec.unit}: ` +
    `a plain number counts ${spec.unit}, or add K, M or G`
  )
}

function inRange(spec: KeySpec, value: number): boolean {
  return (spec.min === undefined || value >= spec.min) && (spec.max === undefined || value <= spec.max)
}

function parseInteger(text: string, spec: KeySpec): ItemResult {
  if (!/^-?\d+$/.test(text) || !inRange(spec, Number(text))) return { ok: false, expected: expectedInteger(spec) }
  return { ok: true, value: Number(text) }
}

function parseDuration(text: string, spec: KeySpec): ItemResult {
  const match = /^(\d+)\s*([smhd]?)$/i.exec(text)
  if (!match) return { ok: false, expected: expectedDuration(spec) }
  const factor = match[2] === '' ? durationFactor(spec) : DURATION_SUFFIX[match[2].toLowerCase()]
  const seconds = Number(match[1]) * factor
  if (!inRange(spec, seconds)) return { ok: false, expected: expectedDuration(spec) }
  return { ok: true, value: seconds }
}

function parseSize(text: string, spec: KeySpec): ItemResult {
  const match = /^(\d+)\s*(?:([kmg])b?)?$/i.exec(text)
  if (!match) return { ok: false, expected: expectedSize(spec) }
  const factor = match[2] === undefined ? sizeFactor(spec) : SIZE_SUFFIX[match[2].toLowerCase()]
  const bytes = Number(match[1]) * factor
  if (!inRange(spec, bytes)) return { ok: false, expected: expectedSize(spec) }
  return { ok: true, value: bytes }
}

/** Canonical statuses of one item of a status list; [] for `none`, null when unknown. */
export function statusesOf(token: string): string[] | null {
  const lower = token.toLowerCase()
  if (lower === 'none') return []
  if (lower === 'all') return LEGACY_ALL
  if (lower === 'as/all') return [...SPAM_STATUSES]
  if (lower === 'av/all') return [...AV_STATUSES]
  if (STATUS_ORDER.includes(lower)) return [lower]
  const bare = BARE_STATUS[lower]
  return bare === undefined ? null : [bare]
}

/** Sorts a status set into vocabulary order (as/* first, then av/*) without duplicates. */
export function orderStatuses(statuses: Iterable<string>): string[] {
  const set = new Set(statuses)
  return STATUS_ORDER.filter((status) => set.has(status))
}

function parseStatus(text: string): ItemResult {
  const statuses = statusesOf(text)
  if (statuses === null) {
    return { ok: false, expected: 'expected a comma list of statuses such as av/infected, as/spam, av/all, as/all or none' }
  }
  return { ok: true, value: statuses }
}

function parseSubjectMark(text: string): ItemResult {
  const lower = text.toLowerCase()
  if (lower === 'none') return { ok: true, value: [] }
  if (lower === 'all' || lower === 'as/all') return { ok: true, value: [...SPAM_STATUSES] }
  const status = lower.startsWith('as/') ? lower : `as/${lower}`
  if (!SPAM_STATUSES.includes(status as never)) {
    return { ok: false, expected: 'expected a comma list of spam, probable, formal, blacklisted, all or none' }
  }
  return { ok: true, value: [status] }
}

function parseAddress(text: string): ItemResult {
  if (!/^[^\s@<>,]+@[^\s@<>,]+$/.test(text)) return { ok: false, expected: 'expected an e-mail address such as postmaster@example.com' }
  return { ok: true, value: text }
}

function parseAddressMask(text: string): ItemResult {
  const mask = normaliseAddressMask(text)
  if (mask === null) return { ok: false, expected: 'expected an address mask such as *@example.com, user?@*.example.org or *' }
  return { ok: true, value: mask }
}

function parseSender(text: string, source: ValueSource): ItemResult {
  const match = /^(ip|host|network)\s+(\S+)$/i.exec(text)
  const base = { text, file: source.file, line: source.line }
  if (match) {
    const kind = match[1].toLowerCase()
    const argument = match[2]
    if (kind === 'ip') {
      const range = parseIpRange(argument)
      if (range === null) return { ok: false, expected: 'expected ip ADDRESS, ip ADDRESS/BITS or ip ADDRESS/NETMASK' }
      return { ok: true, value: { ...base, kind: 'ip', range } }
    }
    if (kind === 'host') {
      if (!/^[A-Za-z0-9*?._-]+$/.test(argument)) return { ok: false, expected: 'expected host MASK, e.g. host *.example.com' }
      return { ok: true, value: { ...base, kind: 'host', mask: argument } }
    }
    return { ok: true, value: { ...base, kind: 'network', name: argument } }
  }

  const mask = normaliseAddressMask(text)
  if (mask === null) {
    return { ok: false, expected: 'expected an address mask, ip ADDRESS[/BITS|/NETMASK], host MASK or network NAME' }
  }
  return { ok: true, value: { ...base, kind: 'address', mask } }
}

function parseNamedNetwork(text: string, source: ValueSource): ItemResult {
  const expected = 'expected NAME ADDRESS[/BITS|/NETMASK][,ADDRESS...], e.g. MyNetwork 192.168.0.0/16,10.0.0.1'
  const match = /^([A-Za-z0-9_.-]+)\s+(.+)$/.exec(text)
  if (!match) return { ok: false, expected }
  const ranges: string[] = []
  for (const part of match[2].split(',')) {
    const trimmed = part.trim()
    if (trimmed === '') continue
    const range = parseIpRange(trimmed)
    if (range === null) return { ok: false, expected }
    ranges.push(range)
  }
  if (ranges.length === 0) return { ok: false, expected }
  return { ok: true, value: { name: match[1], ranges, file: source.file, line: source.line } }
}

function parseDnsbl(text: string, source: ValueSource): ItemResult {
  const expected = 'expected ZONE [RATING] with RATING an integer from 1 to 100, e.g. zen.example.org 50'
  const match = /^(\S+)(?:\s+(\d+))?$/.exec(text)
  if (!match || !isHostname(match[1])) return { ok: false, expected }
  const rating = match[2] === undefined ? 100 : Number(match[2])
  if (rating < 1 || rating > 100) return { ok: false, expected }
  return { ok: true, value: { zone: match[1].replace(/\.$/, ''), rating, file: source.file, line: source.line } }
}

function parseClamdSocket(text: string): ItemResult {
  if (isAbsolute(text)) return { ok: true, value: { kind: 'unix', path: text } }
  const address = parseIpPort(text) ?? parseHostPort(text)
  if (address === null) return { ok: false, expected: 'expected an absolute Unix socket path or HOST:PORT' }
  return { ok: true, value: { kind: 'tcp', host: address.host, port: address.port } }
}

function parseUrl(text: string): ItemResult {
  try {
    const url = new URL(text)
    if (url.protocol === 'http:' || url.protocol === 'https:') return { ok: true, value: text }
  } catch {
    // Falls through to the error below.
  }
  return { ok: false, expected: 'expected an http:// or https:// URL' }
}

/** Parses one item of the key's kind. `text` is trimmed and not empty. */
export function parseItem(spec: KeySpec, text: string, source: ValueSource): ItemResult {
  switch (spec.type) {
    case 'string':
    case 'path':
      return { ok: true, value: text }
    case 'boolean': {
      const value = BOOLEANS[text.toLowerCase()]
      if (value === undefined) return { ok: false, expected: 'expected true or false (also yes/no, y/n, on/off, 1/0)' }
      return { ok: true, value }
    }
    case 'integer':
      return parseInteger(text, spec)
    case 'duration':
      return parseDuration(text, spec)
    case 'size':
      return parseSize(text, spec)
    case 'enum': {
      const value = (spec.values ?? []).find((v) => v.toLowerCase() === text.toLowerCase())
      if (value === undefined) return { ok: false, expected: `expected one of ${(spec.values ?? []).join(', ')}` }
      return { ok: true, value }
    }
    case 'hostname':
      if (!isHostname(text) || !text.replace(/\.$/, '').includes('.')) {
        return { ok: false, expected: 'expected a fully qualified host name such as mail.example.com' }
      }
      return { ok: true, value: text.replace(/\.$/, '') }
    case 'address':
      return parseAddress(text)
    case 'addressMask':
      return parseAddressMask(text)
    case 'domainMask':
      if (!/^[A-Za-z0-9*?._-]+$/.test(text)) return { ok: false, expected: 'expected a domain mask such as example.com or *.example.com' }
      return { ok: true, value: text }
    case 'nameMask':
      return { ok: true, value: text }
    case 'mimeMask':
      if (!/^[A-Za-z0-9*?.+_-]+(\/[A-Za-z0-9*?.+_-]+)?$/.test(text)) {
        return { ok: false, expected: 'expected a MIME type mask such as application/x-msdownload or image/*' }
      }
      return { ok: true, value: text }
    case 'ipPort': {
      const value = parseIpPort(text)
      if (value === null) return { ok: false, expected: 'expected IP:PORT, e.g. 127.0.0.1:25 or [::1]:25' }
      return { ok: true, value }
    }
    case 'nameserver': {
      const value = parseIpPort(text, 53)
      if (value === null) return { ok: false, expected: 'expected IP or IP:PORT, e.g. 127.0.0.1:5353 or [::1]:53' }
      return { ok: true, value }
    }
    case 'clamdSocket':
      return parseClamdSocket(text)
    case 'url':
      return parseUrl(text)
    case 'rule':
      return { ok: true, value: { text, file: source.file, line: source.line } }
    case 'dnsbl':
      return parseDnsbl(text, source)
    case 'namedNetwork':
      return parseNamedNetwork(text, source)
    case 'forwardRoute': {
      const route = parseForwardRoute(text)
      if (route === null) return { ok: false, expected: FORWARD_ROUTE_EXPECTED }
      return { ok: true, value: { ...route, file: source.file, line: source.line } }
    }
    case 'sender':
      return parseSender(text, source)
    case 'statusList':
      return parseStatus(text)
    case 'subjectMarkList':
      return parseSubjectMark(text)
  }
}

export interface ValueText {
  items: unknown[]
  invalid: { token: string; expected: string }[]
}

/** Reports whether one line of the key may hold several comma-separated items. */
export function splitsOnCommas(spec: KeySpec): boolean {
  return spec.commaList === true || spec.type === 'statusList' || spec.type === 'subjectMarkList'
}

/** Parses the non-empty text of one line (or list-file line) into the items it adds to the key. */
export function parseValueText(spec: KeySpec, text: string, source: ValueSource): ValueText {
  const result: ValueText = { items: [], invalid: [] }
  const tokens = splitsOnCommas(spec) ? text.split(',').map((t) => t.trim()).filter((t) => t !== '') : [text]

  for (const token of tokens) {
    const parsed = parseItem(spec, token, source)
    if (!parsed.ok) {
      result.invalid.push({ token, expected: parsed.expected })
      continue
    }
    // A status token such as av/all stands for several statuses.
    if (spec.type === 'statusList' || spec.type === 'subjectMarkList') {
      result.items.push(...(parsed.value as string[]))
    } else {
      result.items.push(parsed.value)
    }
  }
  return result
}
