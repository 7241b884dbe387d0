// The header signs that KMG switches with its SpamHeaders* keys. Each check reads the decoded
// headers and returns a sign or null; the switch names are the sign names. The limits below are
// our choice: the KMG guide names the checks but not their thresholds.

import type { PolicySettings } from '../config'
import type { MessageView, HeaderAddress } from './message-view'
import { detectScripts, type EastAsianScript } from './scripts'
import { decisiveSign, sign, type Sign } from './signs'

/** Subjects longer than this many characters (after decoding) count as too long. */
export const SUBJECT_MAX_LENGTH = 120

/** A run of this many digits in an address is the "digits" sign (user48213@, mail20931.example). */
const DIGIT_RUN = /\d{4,}/

export type HeaderSwitch =
  | 'SpamHeadersToUndisclosed'
  | 'SpamHeadersFromOrToDigits'
  | 'SpamHeadersFromOrToNoDomain'
  | 'SpamHeadersSubjectTooLong'
  | 'SpamHeadersSubjectWSOrDots'
  | 'SpamHeadersSubjectDigitIDOrTimestamp'

type HeaderCheck = (view: MessageView) => Sign | null

export const HEADER_CHECKS: Record<HeaderSwitch, HeaderCheck> = {
  SpamHeadersToUndisclosed: toUndisclosed,
  SpamHeadersFromOrToDigits: fromOrToDigits,
  SpamHeadersFromOrToNoDomain: fromOrToNoDomain,
  SpamHeadersSubjectTooLong: subjectTooLong,
  SpamHeadersSubjectWSOrDots: subjectWhitespaceOrDots,
  SpamHeadersSubjectDigitIDOrTimestamp: subjectDigitIdOrTimestamp,
}

const SCRIPT_SWITCHES: Record<EastAsianScript, 'SpamHeadersMarkAllChinese' | 'SpamHeadersMarkAllKorean' | 'SpamHeadersMarkAllThai' | 'SpamHeadersMarkAllJapanese'> = {
  Chinese: 'SpamHeadersMarkAllChinese',
  Korean: 'SpamHeadersMarkAllKorean',
  Thai: 'SpamHeadersMarkAllThai',
  Japanese: 'SpamHeadersMarkAllJapanese',
}

/** Runs every header check whose switch is on in the settings. */
export function headerSigns(view: MessageView, settings: PolicySettings): Sign[] {
  const signs: Sign[] = []
  for (const [name, check] of Object.entries(HEADER_CHECKS) as [HeaderSwitch, HeaderCheck][]) {
    if (!settings[name]) continue
    const found = check(view)
    if (found) signs.push(found)
  }
  for (const script of detectScripts(view.decodedHeaderText)) {
    const name = SCRIPT_SWITCHES[script]
    if (settings[name]) signs.push(decisiveSign(name, 'headers', `${script} text in the headers`))
  }
  return signs
}

export function toUndisclosed(view: MessageView): Sign | null {
  const to = view.headers.filter((h) => h.name === 'to').map((h) => h.value)
  const undisclosed = to.find((value) => /undisclosed|unlisted[- ]recipients|^\s*:\s*;?\s*$/i.test(value))
  if (undisclosed !== undefined) return sign('SpamHeadersToUndisclosed', 'headers', 3, `To: ${undisclosed.slice(0, 60)}`)
  return null
}

export function fromOrToDigits(view: MessageView): Sign | null {
  const hit = [...view.from, ...view.to].find((a) => a.address !== '' && DIGIT_RUN.test(a.address))
  return hit ? sign('SpamHeadersFromOrToDigits', 'headers', 2, `digits in ${hit.address}`) : null
}

export function fromOrToNoDomain(view: MessageView): Sign | null {
  // mailparser reads a bare word ("From: sales") as a display name without an address.
  const bare = (list: HeaderAddress[]) =>
    list.find((a) => !a.group && ((a.address === '' && a.name !== '') || (a.address !== '' && !/@[^@\s]+\.[^@\s]+$/.test(a.address))))
  const hit = bare(view.from) ?? bare(view.to)
  if (hit) return sign('SpamHeadersFromOrToNoDomain', 'headers', 3, `no domain in ${hit.address || hit.name}`)
  return null
}

export function subjectTooLong(view: MessageView): Sign | null {
  const length = [...view.subject.trim()].length
  return length > SUBJECT_MAX_LENGTH ? sign('SpamHeadersSubjectTooLong', 'headers', 2, `Subject of ${length} characters`) : null
}

export function subjectWhitespaceOrDots(view: MessageView): Sign | null {
  const subject = view.subject
  // Three blanks in a row, four dots, or letters spaced out as in "F R E E" or "V.i.a.g.r.a".
  const patterns: [RegExp, string][] = [
    [/\S[ \t\u00A0]{3,}\S/u, 'runs of spaces'],
    [/\.{4,}/, 'runs of dots'],
    [/(?:^|\s)(?:\p{L}[ .·_-]){3,}\p{L}(?:\s|$)/u, 'spaced-out letters'],
  ]
  const hit = patterns.find(([pattern]) => pattern.test(subject))
  return hit ? sign('SpamHeadersSubjectWSOrDots', 'headers', 3, `Subject with ${hit[1]}`) : null
}

export function subjectDigitIdOrTimestamp(view: MessageView): Sign | null {
  const subject = view.subject.trim()
  // A tracking id pushed to the end after a gap of blanks, as in "Great offer!!!     5805"; a
  // Subject that is only a date; a clock time or a Unix time stamp anywhere. Order numbers after
  // a single blank ("order has shipped (#888-4444444)") are common in wanted mail and do not count.
  const trailingId = /\S\s{2,}[A-Z0-9-]*\d{3,}[A-Z0-9-]*$/i
  const dateOnly = /^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$/
  const clock = /\b\d{1,2}:\d{2}:\d{2}\b/
  const unixTime = /\b1\d{9}\b/
  if (trailingId.test(subject)) return sign('SpamHeadersSubjectDigitIDOrTimestamp', 'headers', 3, 'numeric id at the end of the Subject')
  if (dateOnly.test(subject) || clock.test(subject) || unixTime.test(subject)) {
    return sign('SpamHeadersSubjectDigitIDOrTimestamp', 'headers', 3, 'time stamp in the Subject')
  }
  return null
}
