// The SMTP replies of the access stage, one table so that every hook answers a given refusal
// with the same code and enhanced status (RFC 3463). The plugin turns an entry into a Haraka DSN.

export interface AccessReply {
  code: number
  /** Enhanced status subject and detail: 7.1 in 5.7.1. */
  subject: number
  detail: number
  text: string
}

export const REPLIES = {
  /** A ConnectRule denies the client; Haraka then answers 554 to every command. */
  connectDenied: { code: 554, subject: 7, detail: 1, text: 'Access denied by policy' },
  connectTempfail: { code: 421, subject: 7, detail: 1, text: 'Access temporarily refused by policy, try again later' },
  tooManySessions: { code: 421, subject: 7, detail: 0, text: 'Too many concurrent sessions, try again later' },
  tooManySessionsFromIp: { code: 421, subject: 7, detail: 0, text: 'Too many concurrent sessions from your address, try again later' },
  heloDenied: { code: 550, subject: 7, detail: 1, text: 'HELO/EHLO name rejected by policy' },
  heloTempfail: { code: 450, subject: 7, detail: 1, text: 'HELO/EHLO name temporarily refused by policy, try again later' },
  senderDenied: { code: 550, subject: 7, detail: 1, text: 'Sender rejected by policy' },
  senderTempfail: { code: 450, subject: 7, detail: 1, text: 'Sender temporarily refused by policy, try again later' },
  recipientDenied: { code: 550, subject: 7, detail: 1, text: 'Recipient rejected by policy' },
  recipientTempfail: { code: 450, subject: 7, detail: 1, text: 'Recipient temporarily refused by policy, try again later' },
  needsSmtputf8: { code: 553, subject: 6, detail: 7, text: 'Non-ASCII addresses need the SMTPUTF8 parameter of MAIL FROM' },
  nonCanonicalDomain: { code: 553, subject: 1, detail: 3, text: 'Write the recipient domain in its usual form, without look-alike characters' },
  relayDenied: { code: 550, subject: 7, detail: 1, text: 'Relaying denied' },
  relayTrick: { code: 550, subject: 7, detail: 1, text: 'Relaying denied: routing through the local part or an address literal is not accepted' },
  tooManyRecipients: { code: 452, subject: 5, detail: 3, text: 'Too many recipients, send the rest in another message' },
  tooManyMessages: { code: 452, subject: 7, detail: 0, text: 'Too many messages in this session, send the rest in a new session' },
  messageTooBig: { code: 552, subject: 3, detail: 4, text: 'Message size exceeds the fixed maximum message size' },
  sessionTooBig: { code: 452, subject: 3, detail: 4, text: 'Session size limit reached, send the rest in a new session' },
  tooManyHops: { code: 554, subject: 4, detail: 6, text: 'Too many Received headers, possible mail loop' },
  headerTooLong: { code: 552, subject: 3, detail: 4, text: 'Message header has too many lines; end the header with an empty line' },
  queueFull: { code: 452, subject: 3, detail: 1, text: 'Insufficient system storage, try again later' },
} as const satisfies Record<string, AccessReply>

export type ReplyName = keyof typeof REPLIES
