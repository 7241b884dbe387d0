// ProtectedDomains: the domains the gateway receives mail for. Masks use `*` and `?`, so
// `example.com` is that domain only and `*.example.com` its subdomains.

import { matchMask } from '../match/mask'

export function isProtectedDomain(masks: readonly string[], domain: string): boolean {
  const d = domain.toLowerCase().replace(/\.$/, '')
  return masks.some((m) => matchMask(m, d))
}

/**
 * Recognises the postmaster mailbox that RFC 5321 section 4.5.1 requires every SMTP server to
 * accept: `postmaster` without a domain, or at the gateway's own host name.
 */
export function isPostmasterAddress(user: string, host: string | null, hostname: string): boolean {
  if (user.toLowerCase() !== 'postmaster') return false
  return !host || host.toLowerCase() === hostname.toLowerCase()
}
