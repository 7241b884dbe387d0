// The text of the DSN that Haraka's outbound queue sends when a message cannot be delivered
// (outbound.bounce_message). Haraka fills the {placeholders} itself; the From address is the
// gateway's Postmaster so that replies to a DSN reach a person.

export function renderBounceMessage(postmaster: string): string {
  const from = postmaster.replace(/[\r\n<>]/g, '')
  return [
    'Received: (haraka-mailgw {pid} invoked for bounce); {date}',
    'Date: {date}',
    `From: Mail Delivery System <${from}>`,
    'To: {to}',
    'Auto-Submitted: auto-replied',
    'Subject: Undelivered mail returned to sender',
    'Message-Id: {msgid}',
    '',
    'This is the mail gateway at {me}.',
    '',
    'Your message',
    '    "{subject}"',
    'could not be delivered to the following recipients:',
    '',
    '    {recipients}',
    '',
    'The gateway has stopped trying. Reason: {reason}',
    '',
    '{extended_reason}',
    '',
  ].join('\n')
}
