// Which East Asian or Thai script a piece of decoded text is written in, for the
// SpamHeadersMarkAll{Chinese,Korean,Thai,Japanese} switches. Unicode blocks decide:
// - Korean: Hangul syllables and jamo;
// - Japanese: hiragana or katakana (Japanese text mixes kana with kanji, so kana is the marker);
// - Chinese: Han ideographs without any kana or Hangul;
// - Thai: the Thai block.
// A script counts only with at least MIN_CHARACTERS characters, so one stray symbol in a name
// does not mark a message.

export type EastAsianScript = 'Chinese' | 'Korean' | 'Thai' | 'Japanese'

const MIN_CHARACTERS = 2

const HANGUL = /[\u1100-\u11FF\u3130-\u318F\uA960-\uA97F\uAC00-\uD7AF\uD7B0-\uD7FF]/gu
const KANA = /[\u3040-\u309F\u30A0-\u30FF\u31F0-\u31FF\uFF66-\uFF9F]/gu
const HAN = /[\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF\u{20000}-\u{2FA1F}]/gu
const THAI = /[\u0E00-\u0E7F]/gu

function count(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0
}

/** Returns the scripts present in the text, at most one of Chinese and Japanese. */
export function detectScripts(text: string): EastAsianScript[] {
  const found: EastAsianScript[] = []
  const kana = count(text, KANA)
  const hangul = count(text, HANGUL)
  const han = count(text, HAN)

  if (hangul >= MIN_CHARACTERS) found.push('Korean')
  if (kana >= MIN_CHARACTERS) found.push('Japanese')
  else if (han >= MIN_CHARACTERS && kana === 0 && hangul === 0) found.push('Chinese')
  if (count(text, THAI) >= MIN_CHARACTERS) found.push('Thai')
  return found
}
