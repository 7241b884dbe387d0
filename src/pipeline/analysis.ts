// Per-message work shared by every copy of one message: the MIME split, the anti-spam verdicts and
// the anti-virus verdicts. Each verdict is computed once per message for a given set of the
// settings the engine reads (anti-virus: once per object digest), so two groups with the same
// scan settings share one check, and the same attachment appearing twice is scanned once.

import type { PolicySettings } from '../config'
import { splitMessage, type MimeObject } from '../mime/objects'
import {
  settingsFingerprint,
  type AntiVirusBases,
  type EngineSet,
  type MessageContext,
  type ObjectVerdict,
  type SpamVerdict,
} from './engines'

export class MessageAnalysis {
  private split: MimeObject[] | null = null
  private readonly spamVerdicts = new Map<string, Promise<SpamVerdict>>()
  private readonly objectVerdicts = new Map<string, Promise<ObjectVerdict>>()
  private bases: Promise<AntiVirusBases> | null = null
  /** Number of engine calls made, for the log and for tests of the sharing. */
  readonly calls = { spam: 0, objects: 0 }

  /**
   * @param raw the message as the engines see it: as received, without the verdict headers a
   *   sender may have forged.
   */
  constructor(
    readonly raw: Buffer,
    readonly context: MessageContext,
    readonly engines: EngineSet,
  ) {}

  objects(): MimeObject[] {
    if (this.split === null) this.split = splitMessage(this.raw).objects
    return this.split
  }

  /** Returns the anti-spam verdict, or null when no anti-spam engine is configured. */
  spamVerdict(settings: PolicySettings): Promise<SpamVerdict> | null {
    const engine = this.engines.antispam
    if (!engine) return null
    const key = settingsFingerprint(engine.settingsKeys, settings)
    let verdict = this.spamVerdicts.get(key)
    if (!verdict) {
      this.calls.spam++
      verdict = engine.check(this.raw, this.context, settings)
      this.spamVerdicts.set(key, verdict)
    }
    return verdict
  }

  /** Returns the anti-virus verdict of one object, or null when no anti-virus engine is configured. */
  objectVerdict(object: MimeObject, settings: PolicySettings): Promise<ObjectVerdict> | null {
    const engine = this.engines.antivirus
    if (!engine) return null
    const key = `${object.digest} ${settingsFingerprint(engine.settingsKeys, settings)}`
    let verdict = this.objectVerdicts.get(key)
    if (!verdict) {
      this.calls.objects++
      verdict = engine.scan(object, this.context, settings)
      this.objectVerdicts.set(key, verdict)
    }
    return verdict
  }

  antiVirusBases(): Promise<AntiVirusBases> | null {
    const engine = this.engines.antivirus
    if (!engine) return null
    this.bases ??= engine.bases()
    return this.bases
  }
}
