// The pipeline of one virtual copy: the recipients of one group, treated with that group's rules.
// Steps, in order:
//   1. anti-spam status, when CheckSpam is on and an anti-spam engine is configured;
//   2. anti-virus, when CheckAV is on, an anti-virus engine is configured and the anti-spam
//      status is not in BlockMessage: objects selected by the name and MIME filters become
//      av/filtered, every other object is scanned;
//   3. the action of each object's status (pass, remove, placeholder, cure);
//   4. message actions: block, quarantine, notifications, Subject label, verdict headers.
// A blocked copy is not rewritten: only the quarantine keeps it, with its original content.

import type { PolicySettings, AvStatus } from '../config'
import type { GroupChoice } from '../groups/match'
import type { MessageContent } from '../message/content'
import type { MimeObject } from '../mime/objects'
import { decideMessageActions, objectActionFor, spamStatusBlocks, type MessageActions, type ObjectAction } from './actions'
import type { MessageAnalysis } from './analysis'
import type { SpamVerdict } from './engines'
import { isFiltered } from './filter'
import { editHeaderParts, firstHeaderValue } from './rewrite'
import { labelSubject } from './subject'
import { antiVirusHeader, isVerdictHeader, spamTestHeaders, type HeaderLine } from './verdict-headers'

export interface ObjectOutcome {
  id: string
  filename: string | null
  contentType: string
  /** Decoded size in bytes, for notifications. */
  size?: number
  status: AvStatus
  detail?: string
  action: ObjectAction
  /** Disinfected content from the engine, for the cure action. */
  cured?: Buffer
}

/** Applies object actions other than pass to a message and returns the new message. */
export type ObjectEditor = (raw: Buffer, edits: readonly ObjectOutcome[]) => Buffer

export interface PipelineOptions {
  /** Product name and version for the verdict headers, e.g. `haraka-mailgw 0.1.0`. */
  product: string
  now?: () => Date
  /** Rebuilds a message with objects removed, replaced or cured; absent when not available. */
  editObjects?: ObjectEditor
}

export interface CopyOutcome {
  /** 1-based number of the copy within its message. */
  copy: number
  group: string
  recipients: string[]
  /** The anti-spam verdict, or null when anti-spam did not run. */
  spam: SpamVerdict | null
  /** Why anti-spam did not run, when it did not. */
  spamSkipped?: string
  /** Object outcomes, or null when anti-virus did not run. */
  objects: ObjectOutcome[] | null
  avSkipped?: string
  actions: MessageActions
  deliver: boolean
  /**
   * The content to deliver; the original content for a blocked copy. Its body range is a view of
   * the analysed message unless an object action rebuilt the body.
   */
  content: MessageContent
  /** What was changed in the delivered content, for the decision log. */
  changes: string[]
}

export async function processCopy(
  analysis: MessageAnalysis,
  choice: GroupChoice,
  recipients: string[],
  copy: number,
  options: PipelineOptions,
): Promise<CopyOutcome> {
  const settings = choice.settings

  const spam = await runAntiSpam(analysis, settings)
  const av = spamStatusBlocks(spam.verdict?.status ?? null, settings)
    ? { objects: null, skipped: 'blocked by anti-spam status' }
    : await runAntiVirus(analysis, settings)

  const actions = decideMessageActions(
    { spam: spam.verdict?.status ?? null, objects: (av.objects ?? []).map((o) => o.status) },
    settings,
  )
  const outcome: CopyOutcome = {
    copy,
    group: choice.name,
    recipients,
    spam: spam.verdict,
    spamSkipped: spam.skipped,
    objects: av.objects,
    avSkipped: av.skipped,
    actions,
    deliver: actions.block.length === 0,
    content: [analysis.raw],
    changes: [],
  }
  if (outcome.deliver) await rewriteForDelivery(analysis, outcome, options)
  return outcome
}

async function runAntiSpam(analysis: MessageAnalysis, settings: PolicySettings): Promise<{ verdict: SpamVerdict | null; skipped?: string }> {
  if (!settings.CheckSpam) return { verdict: null, skipped: 'CheckSpam=false' }
  const pending = analysis.spamVerdict(settings)
  if (!pending) return { verdict: null, skipped: 'no anti-spam engine' }
  const verdict = await pending
  // A message the engine did not check (SpamCheckSizeLimit) is recorded as skipped, not as clean.
  if (verdict.skipped) return { verdict: null, skipped: verdict.skipped }
  return { verdict }
}

async function runAntiVirus(analysis: MessageAnalysis, settings: PolicySettings): Promise<{ objects: ObjectOutcome[] | null; skipped?: string }> {
  if (!settings.CheckAV) return { objects: null, skipped: 'CheckAV=false' }
  if (!analysis.engines.antivirus) return { objects: null, skipped: 'no anti-virus engine' }

  const objects = await Promise.all(analysis.objects().map((object) => scanObject(analysis, object, settings)))
  return { objects }
}

async function scanObject(analysis: MessageAnalysis, object: MimeObject, settings: PolicySettings): Promise<ObjectOutcome> {
  const base = { id: object.id, filename: object.filename, contentType: object.contentType, size: object.size }
  if (isFiltered(object, settings)) {
    return { ...base, status: 'av/filtered', action: objectActionFor('av/filtered', settings) }
  }
  const pending = analysis.objectVerdict(object, settings)
  if (!pending) throw new Error(`object ${object.id}: no anti-virus engine to scan it`)
  const verdict = await pending
  return {
    ...base,
    status: verdict.status,
    detail: verdict.detail,
    action: objectActionFor(verdict.status, settings),
    cured: verdict.cured,
  }
}

async function rewriteForDelivery(analysis: MessageAnalysis, outcome: CopyOutcome, options: PipelineOptions): Promise<void> {
  let content = analysis.raw

  const edits = (outcome.objects ?? []).filter((o) => o.action !== 'pass')
  if (edits.length > 0) {
    if (!options.editObjects) {
      // Delivering the object unchanged would ignore the configured action, so the message is
      // retried instead until an editor is available.
      throw new Error(
        `object actions ${edits.map((o) => `${o.action} ${o.id} (${o.status})`).join(', ')} cannot be applied: no MIME editor is configured`,
      )
    }
    content = options.editObjects(content, edits)
    outcome.changes.push(...edits.map((o) => `${o.action}:${o.id}`))
  }

  const append: HeaderLine[] = []
  const spamEngine = analysis.engines.antispam
  if (outcome.spam && spamEngine) {
    append.push(
      ...spamTestHeaders(outcome.spam, {
        mailFrom: analysis.context.mailFrom,
        group: outcome.group,
        product: options.product,
        engineName: spamEngine.name,
        engineVersion: spamEngine.version,
      }),
    )
  }
  const bases = outcome.objects ? analysis.antiVirusBases() : null
  if (outcome.objects && bases) {
    const now = options.now?.() ?? new Date()
    append.push(antiVirusHeader(outcome.objects.map((o) => o.status), await bases, now, options.product))
  }

  const label = outcome.actions.subjectLabel
  const subject = label === null ? null : labelSubject(firstHeaderValue(content, 'subject'), label)
  if (subject !== null) outcome.changes.push('subject')
  if (append.length > 0) outcome.changes.push('headers')

  outcome.content = editHeaderParts(content, { remove: isVerdictHeader, subject: subject ?? undefined, append })
}
