// Subject labels of anti-spam statuses. The label goes in front of the subject as the reader sees
// it: encoded words (RFC 2047) are decoded to check for a label already there, so a message that
// passes the gateway twice is not labelled twice. The new value is plain ASCII: an ASCII label
// is put before the original text unchanged (its encoded words stay valid because a space
// separates them from the label); otherwise the whole subject is encoded again as UTF-8 words.

import libmime from 'libmime'

/** Encoded words stay within the 75-character limit of RFC 2047 section 2 with room for folding. */
const ENCODED_WORD_CHUNK = 52

/**
 * Returns the new Subject value with the label in front, or null when the subject already starts
 * with that label. `current` is the unfolded raw value, or null when the message has no Subject.
 */
export function labelSubject(current: string | null, label: string): string | null {
  const raw = (current ?? '').trim()
  const decoded = decodeSubject(raw)
  if (decoded.trimStart().toLowerCase().startsWith(label.toLowerCase())) return null

  if (isAscii(label) && isAscii(raw)) return raw === '' ? label : `${label} ${raw}`
  const labelled = decoded === '' ? label : `${label} ${decoded}`
  return libmime.encodeWords(labelled, 'Q', ENCODED_WORD_CHUNK)
}

/** Decodes RFC 2047 encoded words; a malformed word is left as written. */
export function decodeSubject(raw: string): string {
  try {
    return libmime.decodeWords(raw)
  } catch {
    return raw
  }
}

function isAscii(text: string): boolean {
  return /^[\x20-\x7e\t]*$/.test(text)
}
