// Test messages for the anti-virus: a corpus message turned into multipart/mixed with attachments,
// an attached message/rfc822, or a text body with a uuencoded block.

import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from './gateway';

export const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures');

export interface Attachment {
  filename: string;
  contentType: string;
  content: Buffer;
}

/** The header block (without the empty line) and the body of a raw message. */
export function splitRaw(raw: Buffer): { header: string; body: Buffer } {
  const text = raw.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const blank = /\r?\n\r?\n/.exec(text.slice(end)) as RegExpExecArray;
  return { header: text.slice(0, end), body: raw.subarray(end + blank[0].length) };
}

/** Text of the corpus carrier message's body, with CRLF line ends. */
export function carrierText(): string {
  const raw = fs.readFileSync(path.join(FIXTURES, 'av', 'plain-text.eml'));
  return splitRaw(raw).body.toString('utf8').replace(/\r?\n/g, '\r\n');
}

function base64Lines(data: Buffer): string {
  return (data.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
}

export function attachmentPart(attachment: Attachment): string {
  return [
    `Content-Type: ${attachment.contentType}; name="${attachment.filename}"`,
    'Content-Transfer-Encoding: base64',
    `Content-Disposition: attachment; filename="${attachment.filename}"`,
    '',
    base64Lines(attachment.content),
  ].join('\r\n');
}

/** A multipart/mixed message: the corpus text first, then the attachments or raw parts. */
export function messageWith(subject: string, parts: (Attachment | string)[], to = 'user@corp.example'): string {
  const boundary = `=_mailgw_av_${subject.replace(/\W/g, '')}`;
  const body = [`Content-Type: text/plain; charset=utf-8\r\n\r\n${carrierText()}`, ...parts.map((p) => (typeof p === 'string' ? p : attachmentPart(p)))];
  return [
    'From: Sender <sender@outside.example>',
    `To: ${to}`,
    `Subject: ${subject}`,
    'Date: Fri, 04 Dec 2026 10:00:00 +0000',
    `Message-ID: <${subject.replace(/\W/g, '')}@outside.example>`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    'This is a multi-part message in MIME format.',
    ...body.map((part) => `--${boundary}\r\n${part}`),
    `--${boundary}--`,
    '',
  ].join('\r\n');
}

/** A message/rfc822 part holding a whole message. */
export function attachedMessage(inner: string): string {
  return ['Content-Type: message/rfc822', 'Content-Disposition: attachment; filename="forwarded.eml"', '', inner].join('\r\n');
}

/** A plain-text message whose body holds the corpus text and a uuencoded file. */
export function uuencodedMessage(subject: string, filename: string, content: Buffer): string {
  return [
    'From: Sender <sender@outside.example>',
    'To: user@corp.example',
    `Subject: ${subject}`,
    'Date: Fri, 04 Dec 2026 10:00:00 +0000',
    `Message-ID: <${subject.replace(/\W/g, '')}@outside.example>`,
    '',
    carrierText(),
    uuencode(filename, content),
    'Regards.',
    '',
  ].join('\r\n');
}

function uuencode(filename: string, data: Buffer): string {
  const char = (value: number): string => String.fromCharCode(value === 0 ? 96 : value + 32);
  const lines = [`begin 644 ${filename}`];
  for (let offset = 0; offset < data.length; offset += 45) {
    const chunk = data.subarray(offset, offset + 45);
    let line = char(chunk.length);
    for (let i = 0; i < chunk.length; i += 3) {
      const [a, b = 0, c = 0] = [chunk[i], chunk[i + 1], chunk[i + 2]];
      line += char(a >> 2) + char(((a & 3) << 4) | (b >> 4)) + char(((b & 15) << 2) | (c >> 6)) + char(c & 63);
    }
    lines.push(line);
  }
  lines.push('`', 'end');
  return lines.join('\r\n');
}

/**
 * Returns the mailgw.conf sections that every private-clamd test shares: the gateway on %PORT%,
 * every domain ending in .example routed to the sink, a private clamd and the shipped templates.
 */
export function localClamdPreamble(sinkPort: number): string {
  return `[mailgw.network]
ListenOn=127.0.0.1:%PORT%
Hostname=gw.test.example
Postmaster=admin@corp.example
ProtectedDomains=*.example

[mailgw.forward]
ForwardRoute=* [127.0.0.1:${sinkPort}]

[mailgw.local]
Clamd=true

[mailgw.options]
TemplatesPath=${path.join(PACKAGE_ROOT, 'config', 'templates')}
`;
}
