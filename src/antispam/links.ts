// Finds the hosts that links point to, in the text body (bare URLs and www. names) and in HTML
// (href and src attributes, and URLs in the visible text). Also pairs each HTML link with its
// visible text, for the mismatched-link check. Host names are lowercased and IDN names stay as
// written (punycode or Unicode), since URI blocklists list registered domains in ASCII.

import net from 'node:net'

export interface LinkHost {
  /** Host name or IP address, lowercased, without brackets or a trailing dot. */
  host: string
  isIp: boolean
}

export interface HtmlLink {
  href: string
  /** Visible text of the link, tags removed and entities decoded. */
  text: string
}

const URL_IN_TEXT = /\b(?:https?:\/\/|www\.)[^\s<>"'()]+/gi
const HREF = /<(?:a|area|img|form|iframe)\b[^>]*?\s(?:href|src|action)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi
const ANCHOR = /<a\b[^>]*?\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))[^>]*>([\s\S]*?)<\/a\s*>/gi

/** Returns the distinct hosts of the links in a text and an HTML body. */
export function linkHosts(text: string, html: string): LinkHost[] {
  const urls: string[] = [...text.matchAll(URL_IN_TEXT)].map((m) => m[0])
  for (const match of html.matchAll(HREF)) urls.push(decodeEntities(match[1] ?? match[2] ?? match[3] ?? ''))
  urls.push(...[...htmlToText(html).matchAll(URL_IN_TEXT)].map((m) => m[0]))

  const hosts = new Map<string, LinkHost>()
  for (const url of urls) {
    const host = hostOf(url)
    if (host && !hosts.has(host)) hosts.set(host, { host, isIp: net.isIP(host) !== 0 })
  }
  return [...hosts.values()]
}

export function htmlLinks(html: string): HtmlLink[] {
  return [...html.matchAll(ANCHOR)].map((m) => ({ href: decodeEntities(m[1] ?? m[2] ?? m[3] ?? ''), text: htmlToText(m[4]).trim() }))
}

/** Returns the host of an http(s) URL or a `www.` name, or null. */
export function hostOf(url: string): string | null {
  const withScheme = /^www\./i.test(url) ? `http://${url}` : url
  if (!/^https?:\/\//i.test(withScheme)) return null
  try {
    const host = new URL(withScheme.replace(/[.,;:!?]+$/, '')).hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '')
    return host === '' ? null : host
  } catch {
    return null
  }
}

export function htmlToText(html: string): string {
  return decodeEntities(
    html
      .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, ' ')
      .replace(/<[^>]*>/g, ' ')
      .replace(/\s+/g, ' '),
  )
}

export function decodeEntities(text: string): string {
  return text
    .replace(/&#x([0-9a-f]+);?/gi, (_, hex: string) => safeCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);?/g, (_, dec: string) => safeCodePoint(parseInt(dec, 10)))
    .replace(/&nbsp;/gi, ' ')
    .replace(/&lt;/gi, '<')
    .replace(/&gt;/gi, '>')
    .replace(/&quot;/gi, '"')
    .replace(/&apos;/gi, "'")
    .replace(/&amp;/gi, '&')
}

function safeCodePoint(code: number): string {
  return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : ''
}
