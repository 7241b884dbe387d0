// Wildcard masks as mail administrators write them in mailgw.conf: `*` matches any run of
// characters (empty included), `?` matches exactly one, everything else is literal and compared
// case-insensitively. Used for address masks (`*@example.com`), domain masks (`*.example.com`)
// and host-name masks. The words `any` and `all` are accepted as `*`.

const cache = new Map<string, RegExp>()

/** Compiles a mask to an anchored, case-insensitive regular expression (cached). */
export function compileMask(mask: string): RegExp {
  const cached = cache.get(mask)
  if (cached) return cached

  const trimmed = mask.trim()
  const source = isMatchAll(trimmed)
    ? '[\\s\\S]*'
    : Array.from(trimmed, (ch) => {
        if (ch === '*') return '[\\s\\S]*'
        if (ch === '?') return '[\\s\\S]'
        return ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&')
      }).join('')

  const re = new RegExp(`^${source}$`, 'i')
  if (cache.size > 10000) cache.clear()
  cache.set(mask, re)
  return re
}

export function isMatchAll(mask: string): boolean {
  const m = mask.trim().toLowerCase()
  return m === '*' || m === 'any' || m === 'all'
}

export function matchMask(mask: string, value: string): boolean {
  return compileMask(mask).test(value)
}

export function matchAnyMask(masks: readonly string[], value: string): boolean {
  return masks.some((m) => matchMask(m, value))
}

/**
 * Matches a recipient or sender address against an address mask. A mask without `@` is a domain
 * mask, so `example.com` matches `user@example.com` and `*.example.com` matches
 * `user@mx.example.com`.
 */
export function matchAddressMask(mask: string, address: string): boolean {
  const m = mask.trim()
  if (isMatchAll(m)) return true
  if (m.includes('@')) return matchMask(m, address)
  const at = address.lastIndexOf('@')
  const domain = at >= 0 ? address.slice(at + 1) : ''
  return matchMask(m, domain)
}
