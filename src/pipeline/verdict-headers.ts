// The verdict headers a copy carries: X-SpamTest-* when anti-spam ran, X-Anti-Virus when
// anti-virus ran. The formats follow those of Kaspersky gateways, so filters that mail clients
// already have for them keep working:
//
//   X-SpamTest-Status: Spam | Probable Spam | Formal | Blacklisted | Not detected
//   X-SpamTest-Status-Extended: spam | probable_spam | formal | blacklisted | not_detected
//   X-Anti-Virus: haraka-mailgw 0.1.0, bases: 20261204 #27, check: 20261204 clean
//
// Any header of these names that arrived with the message is removed from every copy first
// (isVerdictHeader), so a sender cannot forge a verdict.

import type { AvStatus, SpamStatus } from '../config'
import type { AntiVirusBases, SpamVerdict } from './engines'

export interface HeaderLine {
  name: string
  value: string
}

const STATUS_TEXT: Record<SpamStatus, [string, string]> = {
  'as/spam': ['Spam', 'spam'],
  'as/probable': ['Probable Spam', 'probable_spam'],
  'as/formal': ['Formal', 'formal'],
  'as/blacklisted': ['Blacklisted', 'blacklisted'],
}

/** Object statuses from the most to the least serious; the first one present names the message. */
const AV_SEVERITY: readonly AvStatus[] = [
  'av/infected',
  'av/suspicious',
  'av/protected',
  'av/error',
  'av/filtered',
  'av/disinfected',
  'av/not_checked',
  'av/clean',
]

export function isVerdictHeader(name: string): boolean {
  const lower = name.toLowerCase()
  return lower.startsWith('x-spamtest-') || lower === 'x-anti-virus'
}

export interface SpamHeaderContext {
  /** Envelope sender; '' for the null sender. */
  mailFrom: string
  group: string
  /** e.g. `haraka-mailgw 0.1.0`. */
  product: string
  engineName: string
  engineVersion: string
}

export function spamTestHeaders(verdict: SpamVerdict, context: SpamHeaderContext): HeaderLine[] {
  const [status, extended] = verdict.status ? STATUS_TEXT[verdict.status] : ['Not detected', 'not_detected']
  return [
    { name: 'X-SpamTest-Status', value: status },
    { name: 'X-SpamTest-Status-Extended', value: extended },
    { name: 'X-SpamTest-Method', value: oneLine(verdict.method) || 'none' },
    { name: 'X-SpamTest-Rate', value: String(Math.round(verdict.rate)) },
    ...verdict.info.map((line) => ({ name: 'X-SpamTest-Info', value: oneLine(line) })),
    { name: 'X-SpamTest-Envelope-From', value: context.mailFrom === '' ? '<>' : context.mailFrom },
    { name: 'X-SpamTest-Group-ID', value: context.group },
    { name: 'X-SpamTest-Version', value: oneLine(`${context.product}, ${context.engineName} ${context.engineVersion}`) },
  ]
}

/** Returns the most serious object status, or av/not_checked for a message without objects. */
export function overallAvStatus(statuses: readonly AvStatus[]): AvStatus {
  return AV_SEVERITY.find((status) => statuses.includes(status)) ?? 'av/not_checked'
}

export function antiVirusHeader(statuses: readonly AvStatus[], bases: AntiVirusBases, checked: Date, product: string): HeaderLine {
  const status = overallAvStatus(statuses).slice('av/'.length)
  return {
    name: 'X-Anti-Virus',
    value: `${product}, bases: ${yyyymmdd(bases.date)} #${bases.signatures}, check: ${yyyymmdd(checked)} ${status}`,
  }
}

function yyyymmdd(date: Date): string {
  return date.toISOString().slice(0, 10).replace(/-/g, '')
}

/** Header values come partly from engines; line breaks in them would start a new header. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').trim()
}
