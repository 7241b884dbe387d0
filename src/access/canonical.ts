// Checks that a recipient is written the way every later decision will read it. Haraka's address
// parser folds look-alike spellings of a domain (full-width letters, the ideographic full stop
// U+3002, upper case) into `host`, while `address` keeps the raw text. ProtectedDomains reads
// `host` but rules, groups and routes read `address`, so `ceo@ｃｏｒｐ.example` would be accepted
// for corp.example and then miss every rule written for it. Such spellings are rejected here.

import { domainToUnicode } from 'node:url'

export type AddressProblem = 'needs-smtputf8' | 'non-canonical-domain'

/**
 * Returns why a recipient is not accepted as written, or null. `originalHost` is the domain as the
 * client wrote it and `host` the parser's normalised ASCII form.
 */
export function recipientProblem(rcpt: { user: string; host: string; originalHost: string }, smtputf8: boolean): AddressProblem | null {
  const raw = `${rcpt.user}@${rcpt.originalHost}`
  // RFC 6531 section 3.4: without SMTPUTF8 in MAIL FROM, addresses are ASCII only.
  if (!smtputf8 && /[^\p{ASCII}]/u.test(raw)) return 'needs-smtputf8'

  const written = rcpt.originalHost.normalize('NFC').toLowerCase().replace(/\.$/, '')
  const canonical = domainToUnicode(rcpt.host.toLowerCase())
  if (written !== rcpt.host.toLowerCase() && written !== canonical) return 'non-canonical-domain'
  return null
}
