// Recognises automatic mail, the as/formal status: delivery status notifications (multipart/report
// or a null envelope sender), read receipts (disposition notifications), feedback reports,
// RFC 3834 Auto-Submitted mail, vacation and out-of-office replies, and notices from a mail
// server's own mailbox (MAILER-DAEMON, postmaster). Mailing list posts are written by people and
// are not formal, so List-Id and Precedence: list do not count; Precedence: bulk or junk counts
// only together with another sign of automatic mail, as vacation programs set it.

import type { MessageContext } from '../pipeline/engines'
import { headerValues, type MessageView } from './message-view'
import { sign, type Sign } from './signs'

const AUTO_REPLY_SUBJECT = /^\s*(?:auto(?:matic)?[- ]?(?:reply|response|respons|antwort)|out of (?:the )?office|abwesenheitsnotiz|vacation|away from (?:my|the) (?:mail|office))\b/i
const BOUNCE_SUBJECT = /(?:undeliver(?:ed|able)|delivery status notification|mail delivery (?:failed|delayed|failure|system)|failure notice|returned mail|delivery failure|could not send message|non[- ]delivery)/i
const SERVER_MAILBOX = /^(?:mailer-daemon|postmaster|mail-daemon)@/i

/** Returns the sign that makes the message formal, or null for ordinary mail. */
export function formalSign(view: MessageView, context: MessageContext): Sign | null {
  const report = /^multipart\/report\b/i.test(view.contentType)
  if (report) {
    const type = /report-type\s*=\s*"?([\w-]+)/i.exec(view.contentType)?.[1] ?? 'report'
    return formal(`multipart/report (${type})`)
  }
  if (context.mailFrom === '') return formal('null envelope sender')

  const autoSubmitted = headerValues(view, 'auto-submitted').find((v) => !/^no\b/i.test(v))
  if (autoSubmitted) return formal(`Auto-Submitted: ${autoSubmitted.split(/[;(\s]/)[0]}`)

  const autoReplyHeader = ['x-autoreply', 'x-autorespond', 'x-autoresponder'].find((name) => headerValues(view, name).length > 0)
  if (autoReplyHeader) return formal(`${autoReplyHeader} header`)

  if (AUTO_REPLY_SUBJECT.test(view.subject)) return formal('automatic reply')

  const fromServer = view.from.some((a) => SERVER_MAILBOX.test(a.address)) || SERVER_MAILBOX.test(context.mailFrom)
  if (fromServer && (BOUNCE_SUBJECT.test(view.subject) || /^multipart\/mixed/i.test(view.contentType))) return formal('mail server notice')

  const precedence = headerValues(view, 'precedence').find((v) => /^(?:bulk|junk)\b/i.test(v))
  const suppress = headerValues(view, 'x-auto-response-suppress').length > 0
  if (precedence && suppress) return formal(`Precedence: ${precedence} from an automatic responder`)
  return null
}

function formal(detail: string): Sign {
  return sign('Formal', 'formal', 0, detail)
}
