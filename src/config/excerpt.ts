// The form in which error messages show a value read from a `file:` list. A list file can be any
// file the configuration names, such as /etc/passwd. So a message shows at most the first 40
// characters of a line, with its control characters escaped, and check-config can neither print
// the file nor drive a terminal.

import type { ConfigError, RuleLine } from './types'

/** Maximum number of characters of a list-file value that an error message shows. */
export const MAX_EXCERPT_CHARS = 40

/** Returns the first MAX_EXCERPT_CHARS characters of `value`, with `...` when cut and controls as `\xHH`. */
export function listValueExcerpt(value: string): string {
  const chars = [...value]
  const excerpt = chars.length > MAX_EXCERPT_CHARS ? `${chars.slice(0, MAX_EXCERPT_CHARS).join('')}...` : value
  return escapeControls(excerpt)
}

/**
 * Rewrites the errors that other modules raised about list-file lines (those not in `configFile`).
 * Each message then shows the text of its line, and every word of that line longer than
 * MAX_EXCERPT_CHARS, only as an excerpt, and any control character escaped. Errors about lines of
 * `configFile` are returned unchanged.
 */
export function excerptListValues(errors: readonly ConfigError[], configFile: string, lines: readonly RuleLine[]): ConfigError[] {
  return errors.map((error) => {
    if (error.file === configFile) return error
    const source = lines.find((l) => l.file === error.file && l.line === error.line)
    const message = source === undefined ? error.message : excerptText(error.message, source.text)
    return { ...error, message: escapeControls(message) }
  })
}

/** Replaces `text` in `message`, and then each long word of it in any letter case, with an excerpt. */
function excerptText(message: string, text: string): string {
  let result = text === '' ? message : message.split(text).join(listValueExcerpt(text))
  // Messages quote single words of a rule too, sometimes lowercased (such as a network name).
  for (const word of new Set(text.split(/[\s,]+/))) {
    if ([...word].length <= MAX_EXCERPT_CHARS) continue
    result = result.replace(new RegExp(word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'giu'), listValueExcerpt(word))
  }
  return result
}

function escapeControls(text: string): string {
  return text.replace(/\p{Cc}/gu, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}
