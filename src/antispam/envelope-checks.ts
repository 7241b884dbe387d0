// Signs that compare the SMTP envelope with the message headers (SpamCheckEnvelope): a sender
// whose registered domain differs from that of the From header, and recipients of whom none is
// named in To or Cc. Each is common in wanted mail too (mailing lists, Bcc), so each weighs
// little and only adds to other signs. Mail with a null sender is left to the formal checks.

import type { MessageContext } from '../pipeline/engines'
import { domainOf, registeredDomain } from './domains'
import type { MessageView } from './message-view'
import { headerValues } from './message-view'
import { sign, type Sign } from './signs'

export function envelopeSigns(view: MessageView, context: MessageContext): Sign[] {
  const signs: Sign[] = []
  const listMail = headerValues(view, 'list-id').length > 0

  const organization = (domain: string) => (domain === '' ? null : (registeredDomain(domain) ?? domain))
  const envelopeDomain = organization(domainOf(context.mailFrom))
  const fromDomains = view.from.map((a) => organization(domainOf(a.address))).filter((d): d is string => d !== null)
  if (context.mailFrom !== '' && envelopeDomain && fromDomains.length > 0 && !fromDomains.includes(envelopeDomain) && !listMail) {
    signs.push(sign('EnvelopeFromMismatch', 'envelope', 1, `envelope ${envelopeDomain} vs From ${fromDomains[0]}`))
  }

  const named = new Set([...view.to, ...view.cc].map((a) => a.address.toLowerCase()).filter((a) => a !== ''))
  const anyNamed = context.recipients.some((r) => named.has(r.toLowerCase()))
  if (context.recipients.length > 0 && !anyNamed && !listMail) {
    signs.push(sign('EnvelopeRcptNotInHeaders', 'envelope', 1, 'no envelope recipient in To or Cc'))
  }
  return signs
}
