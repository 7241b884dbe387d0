// The checks of one anti-spam run by policy switch name, for the Haraka results of the transaction.
// A check that fired is a sign (the fail list) and one that could not run is skipped. A check that
// was switched on and did neither passed (the pass list).

import type { PolicyKey, PolicySettings } from '../config'
import { HEADER_CHECKS } from './header-checks'
import type { Sign, SkippedCheck } from './signs'

const SCRIPT_SWITCHES = ['SpamHeadersMarkAllChinese', 'SpamHeadersMarkAllKorean', 'SpamHeadersMarkAllThai', 'SpamHeadersMarkAllJapanese'] as const
const DNS_SWITCHES = ['SpamCheckDNSBL', 'SpamCheckHostInDNS', 'SpamCheckSPF', 'SpamCheckSURBL'] as const

/** Returns the policy switch that turns a sign on, e.g. SpamCheckEnvelope for EnvelopeFromMismatch. */
export function switchOf(signName: string): string {
  if (signName.startsWith('SpamHeaders') || signName.startsWith('SpamCheck')) return signName
  if (signName.startsWith('Envelope')) return 'SpamCheckEnvelope'
  if (signName.startsWith('Received')) return 'SpamCheckReceived'
  return 'SpamCheckContent'
}

export interface CheckSetup {
  dnsblZones: number
  uriZones: number
  /** Set when the message came with a karma score. */
  karma: boolean
}

/** Returns the switched-on checks that produced no sign and were not skipped. */
export function passedChecks(settings: PolicySettings, signs: readonly Sign[], skipped: readonly SkippedCheck[], setup: CheckSetup): string[] {
  const ran: PolicyKey[] = [...(Object.keys(HEADER_CHECKS) as PolicyKey[]), ...SCRIPT_SWITCHES, 'SpamCheckEnvelope', 'SpamCheckReceived', 'SpamCheckContent']
  if (settings.SpamUseDNS) {
    for (const key of DNS_SWITCHES) {
      if (key === 'SpamCheckDNSBL' && setup.dnsblZones === 0) continue
      if (key === 'SpamCheckSURBL' && setup.uriZones === 0) continue
      ran.push(key)
    }
  }
  if (setup.karma) ran.push('SpamCheckReputation')

  const fired = new Set(signs.map((s) => switchOf(s.name)))
  const notRun = new Set(skipped.map((s) => s.name))
  return ran.filter((key) => settings[key] === true && !fired.has(key) && !notRun.has(key))
}
