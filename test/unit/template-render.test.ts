import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { simpleParser } from 'mailparser';

import { parseTemplate, renderTemplate, renderTemplateParts, type TemplateData } from '../../src/notify/template';

const NOTICE = [
  'From: Gateway \\<%NOTIFY_FROM%\\>',
  'To: %NOTIFY_TO%',
  'Subject: Blocked: %SUBJECT%',
  'Cc: %ADMIN_ADDR%',
  'MIME-Version: 1.0',
  '',
  'Subject was: %SUBJECT%',
  '',
].join('\n');

function render(text: string, data: TemplateData): string {
  return renderTemplate(parseTemplate(text, 'notice.tmpl'), data);
}

/** Returns the header block of a rendered entity as lines (folded lines stay separate). */
function headerLines(rendered: string): string[] {
  return rendered.slice(0, rendered.indexOf('\r\n\r\n')).split('\r\n');
}

describe('renderTemplate', () => {
  it('renders header fields, MIME fields and body with CRLF', () => {
    const out = render(NOTICE, { message: { NOTIFY_FROM: 'gw@example.net', NOTIFY_TO: 'bob@example.net', SUBJECT: 'hello' } });
    assert.equal(
      out,
      'From: Gateway <gw@example.net>\r\nTo: bob@example.net\r\nSubject: Blocked: hello\r\nMIME-Version: 1.0\r\n' +
        'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\nSubject was: hello\r\n',
    );
  });

  it('leaves out header fields that render empty', () => {
    const out = render(NOTICE, { message: { SUBJECT: 'x' } });
    assert.doesNotMatch(out, /^Cc:/m);
    assert.doesNotMatch(out, /^To:/m);
  });

  it('strips line breaks from header values', async () => {
    const subject = 'Invoice\r\nBcc: victim@example.org\r\n\r\nInjected body';
    const out = render(NOTICE, { message: { NOTIFY_TO: 'bob@example.net', SUBJECT: subject } });

    const lines = headerLines(out);
    assert.ok(lines.includes('Subject: Blocked: Invoice Bcc: victim@example.org Injected body'), lines.join('|'));
    assert.ok(!lines.some((l) => /^bcc:/i.test(l)));

    const parsed = await simpleParser(out);
    assert.equal(parsed.bcc, undefined);
    assert.equal(parsed.subject, 'Blocked: Invoice Bcc: victim@example.org Injected body');
  });

  it('strips lone LF and CR from header values', () => {
    const lines = headerLines(render(NOTICE, { message: { SUBJECT: 'a\nX-Evil: 1\rY-Evil: 2' } }));
    assert.ok(lines.includes('Subject: Blocked: a X-Evil: 1 Y-Evil: 2'), lines.join('|'));
  });

  it('turns %CRLF% in a header into a space', () => {
    const out = render('Subject: one%CRLF%Two: three\n\n', { message: {} });
    assert.deepEqual(headerLines(out).slice(0, 1), ['Subject: one Two: three']);
  });

  it('removes control characters from values', () => {
    const parts = renderTemplateParts(parseTemplate('Subject: [%SUBJECT%]\n\n[%SUBJECT%]', 't.tmpl'), {
      message: { SUBJECT: 'a\u0000b\u001bc\u007fd\te' },
    });
    assert.deepEqual(parts.headers, [{ name: 'Subject', value: '[abcd\te]' }]);
    assert.equal(parts.body, '[abcd\te]');
  });

  it('encodes non-ASCII header values with RFC 2047', async () => {
    const out = render(NOTICE, { message: { NOTIFY_TO: 'bob@example.net', SUBJECT: 'Rechnung für März' } });
    const subjectLines = headerLines(out).filter((l) => /^(Subject:| )/.test(l));
    assert.ok(subjectLines.every((l) => /^[\x20-\x7e]*$/.test(l)), subjectLines.join('|'));
    assert.match(subjectLines.join(''), /=\?UTF-8\?Q\?/);

    const parsed = await simpleParser(out);
    assert.equal(parsed.subject, 'Blocked: Rechnung für März');
  });

  it('folds long header values under 78 columns', async () => {
    const subject = Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ');
    const out = render(NOTICE, { message: { SUBJECT: subject } });
    const lines = headerLines(out);
    assert.ok(lines.every((l) => l.length <= 78), lines.join('|'));
    assert.equal((await simpleParser(out)).subject, `Blocked: ${subject}`);
  });

  it('keeps a long unbroken header value under 998 characters a line', async () => {
    const subject = 'x'.repeat(3000);
    const out = render(NOTICE, { message: { SUBJECT: subject } });
    assert.ok(headerLines(out).every((l) => l.length <= 998));
    assert.equal((await simpleParser(out)).subject, `Blocked: ${subject}`);
  });

  it('encodes a non-ASCII body as quoted-printable', async () => {
    const out = render(NOTICE, { message: { SUBJECT: 'Grüße' } });
    assert.match(out, /^Content-Transfer-Encoding: quoted-printable$/m);
    const parsed = await simpleParser(out);
    assert.equal(parsed.text, 'Subject was: Grüße\n');
  });

  it('encodes a body line over 998 characters as quoted-printable', async () => {
    const subject = 'y'.repeat(1200);
    const out = render(NOTICE, { message: { SUBJECT: subject } });
    assert.match(out, /^Content-Transfer-Encoding: quoted-printable$/m);
    assert.ok(out.split('\r\n').every((l) => l.length <= 998));
    assert.equal((await simpleParser(out)).text, `Subject was: ${subject}\n`);
  });

  it('normalizes line breaks of values in the body to CRLF', () => {
    const out = render('Subject: x\n\n%FAILED_RCPT_REASON%\n', {
      message: {},
      failedRecipients: [{ address: 'a@x', status: '5.0.0', reason: 'line one\nline two\rline three' }],
    });
    assert.ok(out.endsWith('\r\n\r\nline one\r\nline two\r\nline three\r\n'), JSON.stringify(out));
  });

  it('cuts values to 4096 bytes without splitting a character', () => {
    const parts = renderTemplateParts(parseTemplate('Subject: x\n\n%SUBJECT%', 't.tmpl'), {
      message: { SUBJECT: 'a' + 'é'.repeat(3000) },
    });
    assert.equal(Buffer.byteLength(parts.body), 4095);
    assert.ok(!parts.body.includes('\uFFFD'));
  });

  it('cuts DEF values to 4096 bytes', () => {
    const text = 'Subject: x\n\n<DEF ALL = ""/>\n<FOR RECIPIENTS == "*">\n<DEF ALL = "%ALL%%RECIPIENTS%"/>\n</FOR>\n%ALL%';
    const parts = renderTemplateParts(parseTemplate(text, 't.tmpl'), {
      message: { RECIPIENTS: Array.from({ length: 10 }, () => 'r'.repeat(1000)) },
    });
    assert.equal(parts.body.length, 4096);
  });

  it('renders the same template twice with fresh variables', () => {
    const template = parseTemplate('Subject: x\n\n<FOR SUBJECT == "a"><DEF SEEN = "yes"/></FOR>[%SEEN%]', 't.tmpl');
    assert.equal(renderTemplateParts(template, { message: { SUBJECT: 'a' } }).body, '[yes]');
    assert.equal(renderTemplateParts(template, { message: { SUBJECT: 'b' } }).body, '[]');
  });
});
