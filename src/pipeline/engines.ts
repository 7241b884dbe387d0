// The interface between the per-copy pipeline and the scanning engines. An anti-spam engine
// returns one verdict for a message under a group's settings; an anti-virus engine returns one
// status for each MIME object. The pipeline caches verdicts (per message for anti-spam, per object
// digest for anti-virus, each also keyed by the settings the engine reads), so copies of one
// message that share settings never trigger a second check.
//
// A scanner outage is not a verdict: an engine that cannot reach its scanner throws
// EngineUnavailableError and the client gets a temporary failure, so the sender retries.

import type { DnsblResults } from '../access/dnsbl'
import type { PolicyKey, PolicySettings, AvStatus, SpamStatus } from '../config'
import type { MimeObject } from '../mime/objects'

/** The client and envelope of the message, as the engines see them. */
export interface MessageContext {
  /** Haraka transaction id. */
  transactionId: string
  /** Envelope sender; '' for the null sender. */
  mailFrom: string
  /** Every accepted recipient of the message, all groups together. */
  recipients: readonly string[]
  clientIp: string
  /** Client host name confirmed by DNS, or null. */
  clientHost: string | null
  /** HELO/EHLO name, or null. */
  helo: string | null
  /**
   * The DNSBL results the access stage got at connect for `clientIp` (results for another
   * address, e.g. before XCLIENT changed it, are not passed). The anti-spam engine uses them
   * instead of asking the zones again.
   */
  clientDnsbl?: DnsblResults
  /** Karma's connection score (haraka-plugin-karma), when karma runs and scored this client. */
  karmaScore?: number
}

export interface SpamVerdict {
  /** The status found, or null for "not detected". */
  status: SpamStatus | null
  /** Score behind the status (X-SpamTest-Rate). */
  rate: number
  /** The method that decided the status, `none` when nothing fired (X-SpamTest-Method). */
  method: string
  /** Free-form detail lines, one X-SpamTest-Info header each. */
  info: readonly string[]
  /** Names of the signs that fired, for the decision log line (e.g. SpamHeadersToUndisclosed). */
  signs?: readonly string[]
  /** Names of the checks that ran and did not fire (policy switch names), for the Haraka results. */
  passed?: readonly string[]
  /** Names of the checks that could not run (a DNS timeout), for the Haraka results. */
  skippedChecks?: readonly string[]
  /** Set when the engine did not check the message (e.g. larger than SpamCheckSizeLimit): why. */
  skipped?: string
}

export interface AntiSpamEngine {
  readonly name: string
  readonly version: string
  /** Policy keys the verdict depends on; the verdict is cached per message and these values. */
  readonly settingsKeys: readonly PolicyKey[]
  check(raw: Buffer, message: MessageContext, settings: PolicySettings): Promise<SpamVerdict>
}

export interface ObjectVerdict {
  status: AvStatus
  /** Signature or reason behind the status, e.g. `Eicar-Test-Signature`. */
  detail?: string
  /** Replacement content when the engine disinfected the object (status av/disinfected). */
  cured?: Buffer
}

/** Signature database facts for the X-Anti-Virus header. */
export interface AntiVirusBases {
  /** Release date of the newest signature database. */
  date: Date
  signatures: number
}

export interface AntiVirusEngine {
  readonly name: string
  readonly version: string
  /** Policy keys the verdict depends on; verdicts are cached per object digest and these values. */
  readonly settingsKeys: readonly PolicyKey[]
  bases(): Promise<AntiVirusBases>
  scan(object: MimeObject, message: MessageContext, settings: PolicySettings): Promise<ObjectVerdict>
}

export interface EngineSet {
  antispam: AntiSpamEngine | null
  antivirus: AntiVirusEngine | null
}

/** Thrown by an engine whose scanner is unreachable or timed out; the message gets a 451. */
export class EngineUnavailableError extends Error {
  constructor(
    readonly engine: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${engine}: ${message}`, options)
    this.name = 'EngineUnavailableError'
  }
}

/** Builds the cache key part that stands for the settings an engine reads. */
export function settingsFingerprint(keys: readonly PolicyKey[], settings: PolicySettings): string {
  return JSON.stringify(keys.map((key) => settings[key]))
}
