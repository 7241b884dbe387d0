// The built-in content check (SpamCheckContent), used when rspamd is not the content engine:
// - the GTUBE test string anywhere in the message (decisive: spam at every level);
// - invisible HTML text (zero font size, display:none, visibility:hidden, white on white);
// - a link whose visible text names another registered domain than the link goes to;
// - classic spam phrases in the Subject and body, shouting Subjects, and obscene words.
// The phrase lists are short and deliberately generic; rspamd is the engine for real content
// analysis (Bayes, fuzzy hashes, thousands of rules).

import { registeredDomain } from './domains'
import { hostOf, htmlLinks, htmlToText } from './links'
import type { MessageView } from './message-view'
import { decisiveSign, sign, type Sign } from './signs'

export const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'

/** Hidden HTML text shorter than this is layout noise (spacers, preheaders), not a trick. */
const HIDDEN_TEXT_MIN = 30
/** This many separate hidden text fragments are word-splitting obfuscation. */
const HIDDEN_FRAGMENTS_MIN = 2

const HIDDEN_STYLE = /font-size\s*:\s*0(?:\.0+)?(?:px|pt|em|%)?\s*(?:;|"|'|$)|display\s*:\s*none|visibility\s*:\s*hidden|color\s*:\s*#?(?:fff|ffffff|white)\b[^"']*background(?:-color)?\s*:\s*#?(?:fff|ffffff|white)\b/i

const SPAM_PHRASES: readonly RegExp[] = [
  /\b100% (?:free|guaranteed|satisfied)\b/i,
  /\bact now\b/i,
  /\bclick (?:here|below)\b/i,
  /\b(?:remove|unsubscribe) (?:you|yourself|me) from (?:this|our|the) (?:list|mailing)/i,
  /\bthis is not spam\b/i,
  /\bmoney[- ]back guarantee\b/i,
  /\bno obligation\b/i,
  /\blimited time (?:offer|only)\b/i,
  /\bdear (?:friend|sir\/madam|beneficiary)\b/i,
  /\bwestern union\b/i,
  /\b(?:million|thousand) (?:united states )?dollars\b|\bUS\$ ?\d{1,3}(?:,\d{3}){2,}/i,
  /\b(?:next of kin|beneficiary|inheritance|transfer of funds?)\b/i,
  /\b(?:viagra|cialis|weight loss|lose weight|herbal)\b/i,
  /\bfree (?:offer|gift|trial|access|membership)\b/i,
  /\b(?:earn|make) (?:\$|money|extra cash)/i,
  /\bkostenlos\b|\bgarantiert\b|\bgratis\b/i,
  /\bcheap\b.*\b(?:meds|pills|software)\b/i,
  /\bincrease (?:your )?(?:sales|traffic)\b|\bwebsite traffic\b/i,
]
/** Points per phrase found, and the cap on the phrase sign. */
const PHRASE_POINTS = 1.5
const PHRASE_MAX_POINTS = 6

const OBSCENE = /\b(?:porn\w*|xxx|fuck\w*|pussy|cock|dick|tits|horny|nude|naked|sluts?|cum|blowjob|milf)\b/gi

export function contentSigns(view: MessageView, raw: Buffer): Sign[] {
  const gtube = gtubeSign(view, raw)
  if (gtube) return [gtube]

  const signs: Sign[] = []
  for (const check of [invisibleText, mismatchedLinks, spamPhrases, shoutingSubject, htmlOnly]) {
    const found = check(view)
    if (found) signs.push(found)
  }
  return signs
}

export function gtubeSign(view: MessageView, raw: Buffer): Sign | null {
  const found =
    raw.includes(GTUBE) || view.text.includes(GTUBE) || view.html.includes(GTUBE) || view.smallAttachments.some((a) => a.includes(GTUBE))
  return found ? decisiveSign('GTUBE', 'content', 'GTUBE test string') : null
}

export function invisibleText(view: MessageView): Sign | null {
  let hiddenCharacters = 0
  let hiddenElements = 0
  // Opening tags are matched one by one so that hidden elements nested in others are found too.
  const openingTag = /<(\w+)\b([^>]*)>/gi
  for (const match of view.html.matchAll(openingTag)) {
    const tag = match[1].toLowerCase()
    const attributes = match[2]
    const zeroFontTag = tag === 'font' && /\bsize\s*=\s*["']?0\b/i.test(attributes)
    if (!zeroFontTag && !HIDDEN_STYLE.test(attributes)) continue
    const start = (match.index ?? 0) + match[0].length
    const close = view.html.toLowerCase().indexOf(`</${tag}`, start)
    const content = view.html.slice(start, close < 0 ? undefined : close)
    const characters = htmlToText(content).replace(/\s+/g, '').length
    if (characters === 0) continue
    hiddenCharacters += characters
    hiddenElements++
  }
  // Either a block of hidden text, or hidden fragments that split words ("fi<span0>le</span>").
  if (hiddenCharacters < HIDDEN_TEXT_MIN && hiddenElements < HIDDEN_FRAGMENTS_MIN) return null
  return sign('InvisibleText', 'content', 3, `${hiddenCharacters} characters of invisible HTML text in ${hiddenElements} element(s)`)
}

export function mismatchedLinks(view: MessageView): Sign | null {
  for (const link of htmlLinks(view.html)) {
    const shown = /^(?:https?:\/\/|www\.)\S+$/i.test(link.text) ? hostOf(link.text) : null
    const target = hostOf(link.href)
    if (!shown || !target) continue
    const shownDomain = registeredDomain(shown) ?? shown
    const targetDomain = registeredDomain(target) ?? target
    if (shownDomain !== targetDomain) return sign('MismatchedLinkText', 'content', 4, `link text ${shownDomain} leads to ${targetDomain}`)
  }
  return null
}

export function spamPhrases(view: MessageView): Sign | null {
  const text = `${view.subject}\n${view.text}\n${htmlToText(view.html)}`
  const found = SPAM_PHRASES.filter((phrase) => phrase.test(text)).length
  if (found === 0) return null
  return sign('SpamPhrases', 'content', Math.min(found * PHRASE_POINTS, PHRASE_MAX_POINTS), `${found} spam phrase(s)`)
}

export function shoutingSubject(view: MessageView): Sign | null {
  const letters = view.subject.replace(/[^\p{L}]/gu, '')
  const upper = letters.replace(/[^\p{Lu}]/gu, '').length
  const shouting = letters.length >= 10 && upper / letters.length > 0.7
  const punctuation = /[!$]{3,}|\*{3,}/.test(view.subject)
  if (!shouting && !punctuation) return null
  return sign('SubjectShouting', 'content', 2, shouting ? 'Subject in capitals' : 'Subject with !!! or $$$')
}

export function htmlOnly(view: MessageView): Sign | null {
  return view.html !== '' && view.text.trim() === '' ? sign('HtmlOnly', 'content', 1, 'HTML without a text part') : null
}

/** Returns the obscene words found, for SpamMarkObscene. */
export function obsceneWords(view: MessageView): string[] {
  const text = `${view.subject}\n${view.text}\n${htmlToText(view.html)}`
  return [...new Set([...text.matchAll(OBSCENE)].map((m) => m[0].toLowerCase()))]
}
