// The built-in anti-spam engine. For one message under one group's settings it collects the signs
// (headers, envelope, Received chain, DNS, content from the built-in check or rspamd), decides
// the status (status.ts) and explains it for the X-SpamTest-* headers:
//   Method  the sign family or decisive sign that set the status, `none` when nothing did;
//   Rate    the score, the sum of the sign weights;
//   Info    `level=... score=... signs=N`, then one line per sign (`NAME +POINTS: detail`), one
//           per check that could not run (`skipped NAME: reason`) and the SpamMark* marks.
// Messages larger than SpamCheckSizeLimit are not read: the verdict carries `skipped`.
// Only an unreachable rspamd throws (EngineUnavailableError); DNS failures drop their signs.

import type { PolicyKey, PolicySettings } from '../config'
import type { AntiSpamEngine, MessageContext, SpamVerdict } from '../pipeline/engines'
import { passedChecks } from './checks'
import { contentSigns, obsceneWords } from './content-checks'
import { dnsSigns, type DnsSettings } from './dns-checks'
import { domainsReady } from './domains'
import { envelopeSigns } from './envelope-checks'
import { formalSign } from './formal'
import { headerSigns } from './header-checks'
import { linkHosts } from './links'
import { parseMessageView } from './message-view'
import { parseReceived, receivedSigns, relayAddresses } from './received'
import { reputationSign } from './reputation'
import { rspamdSigns, type RspamdOptions } from './rspamd'
import type { Sign, SkippedCheck } from './signs'
import { decideStatus, type RateLimit } from './status'

export const ENGINE_VERSION = '1.0'

export interface BuiltinEngineOptions {
  dns: DnsSettings
  /** rspamd replaces the built-in content check when set. */
  rspamd: RspamdOptions | null
}

const SETTINGS_KEYS = [
  'SpamRateLimit',
  'SpamCheckSizeLimit',
  'SpamUseDNS',
  'SpamCheckDNSBL',
  'SpamCheckHostInDNS',
  'SpamCheckSPF',
  'SpamCheckSURBL',
  'SpamHeadersToUndisclosed',
  'SpamHeadersFromOrToDigits',
  'SpamHeadersFromOrToNoDomain',
  'SpamHeadersSubjectTooLong',
  'SpamHeadersSubjectWSOrDots',
  'SpamHeadersSubjectDigitIDOrTimestamp',
  'SpamHeadersMarkAllChinese',
  'SpamHeadersMarkAllKorean',
  'SpamHeadersMarkAllThai',
  'SpamHeadersMarkAllJapanese',
  'SpamCheckEnvelope',
  'SpamCheckReceived',
  'SpamCheckContent',
  'SpamCheckReputation',
  'SpamMarkProbable',
  'SpamMarkObscene',
] as const satisfies readonly PolicyKey[]

export class BuiltinAntiSpamEngine implements AntiSpamEngine {
  readonly name: string
  readonly version = ENGINE_VERSION
  readonly settingsKeys: readonly PolicyKey[] = SETTINGS_KEYS

  constructor(private readonly options: BuiltinEngineOptions) {
    this.name = options.rspamd ? 'mailgw-antispam+rspamd' : 'mailgw-antispam'
  }

  async check(raw: Buffer, message: MessageContext, settings: PolicySettings): Promise<SpamVerdict> {
    const limit = settings.SpamCheckSizeLimit
    if (limit > 0 && raw.length > limit) {
      const skipped = `message of ${Math.ceil(raw.length / 1024)} KB is larger than SpamCheckSizeLimit (${Math.round(limit / 1024)} KB)`
      return { status: null, rate: 0, method: 'none', info: [`skipped: ${skipped}`], signs: [], skipped }
    }

    await domainsReady
    const view = await parseMessageView(raw)
    const hops = parseReceived(view)
    const signs: Sign[] = headerSigns(view, settings)
    if (settings.SpamCheckEnvelope) signs.push(...envelopeSigns(view, message))
    if (settings.SpamCheckReceived) signs.push(...receivedSigns(hops))

    const links = linkHosts(view.text, view.html)
    const [dns, content] = await Promise.all([
      dnsSigns(message, relayAddresses(hops, message.clientIp), links, settings, this.options.dns),
      this.contentSigns(raw, view, message, settings),
    ])
    signs.push(...dns.signs, ...content)
    const reputation = settings.SpamCheckReputation ? reputationSign(message) : null
    if (reputation) signs.push(reputation)

    const level = settings.SpamRateLimit as RateLimit
    const decision = decideStatus(signs, dns.dnsblRating, formalSign(view, message), level)
    const marks = this.marks(decision.status, view, settings)
    return {
      status: decision.status,
      rate: decision.score,
      method: decision.method,
      info: infoLines(level, decision.score, signs, dns.skipped, marks),
      signs: signs.map((s) => s.name),
      passed: passedChecks(settings, signs, dns.skipped, {
        dnsblZones: this.options.dns.dnsblZones.length,
        uriZones: this.options.dns.uriZones.length,
        karma: message.karmaScore !== undefined,
      }),
      skippedChecks: [...new Set(dns.skipped.map((s) => s.name))],
    }
  }

  private async contentSigns(raw: Buffer, view: Awaited<ReturnType<typeof parseMessageView>>, message: MessageContext, settings: PolicySettings): Promise<Sign[]> {
    if (!settings.SpamCheckContent) return []
    if (this.options.rspamd) return rspamdSigns(raw, message, this.options.rspamd)
    return contentSigns(view, raw)
  }

  private marks(status: SpamVerdict['status'], view: Awaited<ReturnType<typeof parseMessageView>>, settings: PolicySettings): string[] {
    const marks: string[] = []
    if (settings.SpamMarkProbable && status === 'as/probable') marks.push('mark: ProbableSpam')
    if (settings.SpamMarkObscene) {
      const words = obsceneWords(view)
      if (words.length > 0) marks.push(`mark: Obscene (${words.slice(0, 3).join(',')})`)
    }
    return marks
  }
}

function infoLines(level: RateLimit, score: number, signs: readonly Sign[], skipped: readonly SkippedCheck[], marks: readonly string[]): string[] {
  const lines = [`level=${level} score=${score} signs=${signs.length}`]
  for (const s of signs) lines.push(`${s.name} ${s.decisive ? 'decisive' : `+${s.weight}`}: ${s.detail}`)
  for (const check of skipped) lines.push(`skipped ${check.name}: ${check.reason}`)
  lines.push(...marks)
  return lines
}
