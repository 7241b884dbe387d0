// A message held as a list of byte ranges whose concatenation is the message. A copy of a large
// message is its own new header block followed by a view of the received body, so copies share
// the received bytes instead of each holding the whole message again.

export type MessageContent = readonly Buffer[]

/** Accepts either form; a single Buffer is a content of one range. */
export type ContentLike = Buffer | MessageContent

export function asContent(content: ContentLike): MessageContent {
  return Buffer.isBuffer(content) ? [content] : content
}

export function contentLength(content: ContentLike): number {
  return asContent(content).reduce((sum, part) => sum + part.length, 0)
}

/**
 * Joins the ranges into one Buffer. Only for contents known to be small (notifications, tests):
 * on a copy of a large message this allocates the whole message again.
 */
export function joinContent(content: ContentLike): Buffer {
  const parts = asContent(content)
  return parts.length === 1 ? parts[0] : Buffer.concat(parts)
}
