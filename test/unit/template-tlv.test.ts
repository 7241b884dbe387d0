import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';

import {
  checkTemplateFile,
  loadTemplateSet,
  renderTemplate,
  runTlv,
  TEMPLATE_NAMES,
  type TemplateData,
} from '../../src/notify/template';

const ROOT = path.resolve(__dirname, '../../..');
const SHIPPED = path.join(ROOT, 'config/templates');
const FIXTURES = path.join(ROOT, 'test/fixtures/templates');

function collector(): { write(text: string): void; text: string } {
  return {
    text: '',
    write(text: string) {
      this.text += text;
    },
  };
}

function tlv(args: string[]): { status: number; out: string; err: string } {
  const out = collector();
  const err = collector();
  const status = runTlv(args, out, err);
  return { status, out: out.text, err: err.text };
}

/** Data with every field set, as the notification code would fill it. */
const FULL_DATA: TemplateData = {
  message: {
    HOSTNAME: 'gw.example.net',
    POSTMASTER: 'postmaster@example.net',
    ADMIN_ADDR: 'admin@example.net',
    NOTIFY_FROM: 'mailgw@example.net',
    NOTIFY_TO: 'bob@example.net',
    NOTIFY_MESSAGE_ID: '<notify.1@gw.example.net>',
    NOTIFY_REASON: ['av/infected'],
    DATE: 'Mon, 06 May 2024 10:00:00 +0000',
    VERSION: 'haraka-mailgw 0.1.0',
    QUEUE_ID: 'A1B2C3D4.1',
    CONFIG_FILE: '/etc/mailgw/config/mailgw.conf',
    CLIENT_ADDR: '203.0.113.9',
    CLIENT_HOST: 'mx.sender.example',
    CLIENT_HELO: 'mx.sender.example',
    SENDER_ADDR: 'alice@sender.example',
    RECIPIENTS: ['bob@example.net', 'carol@example.net'],
    RECPT_ADDR: 'bob@example.net',
    SUBJECT: 'Quarterly report',
    MESSAGE_ID: '<orig.1@sender.example>',
    MESSAGE_SIZE: '48213',
    GROUP: 'policy',
    SPAM_STATUS: 'not detected',
    ACTION_LIST: ['objects removed', 'quarantined'],
    QUARANTINE_ID: 'Q1234abcd',
    HEADERS: ['From: alice@sender.example', 'Subject: Quarterly report'],
  },
  objects: [
    { name: 'report.pdf.exe', type: 'application/octet-stream', size: 1200, status: 'infected', virus: 'Eicar-Test-Signature', action: 'remove' },
  ],
  failedRecipients: [{ address: 'nobody@example.com', status: '5.1.1', reason: '550 5.1.1 User unknown', remoteHost: 'mx.example.com' }],
};

describe('shipped templates', () => {
  for (const name of TEMPLATE_NAMES) {
    const file = path.join(SHIPPED, `${name}.tmpl`);

    it(`accepts ${name}.tmpl`, () => {
      const result = checkTemplateFile(file);
      assert.deepEqual(result, { ok: true }, result.ok ? '' : result.error.format());
    });
  }

  it('loads the whole set', () => {
    const set = loadTemplateSet(SHIPPED);
    assert.deepEqual(Object.keys(set).sort(), [...TEMPLATE_NAMES].sort());
  });

  it('renders admin.tmpl with every detail', () => {
    const out = renderTemplate(loadTemplateSet(SHIPPED).admin, FULL_DATA);
    assert.match(out, /^To: bob@example\.net\r$/m);
    assert.match(out, /^Subject: \[mailgw\] av\/infected in message from alice@sender\.example\r$/m);
    assert.match(out, /report\.pdf\.exe \(application\/octet-stream, 1200 bytes\)/);
    assert.match(out, /detected: Eicar-Test-Signature/);
    assert.match(out, /mailgw maila -c \S+ --send-id=Q1234abcd/);
    assert.match(out, /Recipient: +<carol@example\.net>/);
  });

  it('renders placeholder.tmpl with object, status and threat', () => {
    const out = renderTemplate(loadTemplateSet(SHIPPED).placeholder, FULL_DATA);
    assert.match(out, /^Content-Description: Removed object report\.pdf\.exe\r$/m);
    assert.match(out, /Name: +report\.pdf\.exe/);
    assert.match(out, /Status: +infected/);
    assert.match(out, /Detected: +Eicar-Test-Signature/);
  });

  it('renders dsn.tmpl with recipients and reasons', () => {
    const out = renderTemplate(loadTemplateSet(SHIPPED).dsn, FULL_DATA);
    assert.match(out, /<nobody@example\.com>\r\n +Status: 5\.1\.1\r\n +Remote server: mx\.example\.com\r\n +Reason: 550 5\.1\.1 User unknown/);
  });

  it('renders the recipient and sender notices', () => {
    const set = loadTemplateSet(SHIPPED);
    for (const template of [set.recipient, set.sender]) {
      const out = renderTemplate(template, FULL_DATA);
      assert.match(out, /report\.pdf\.exe: infected \(Eicar-Test-Signature\)/);
      assert.match(out, /objects removed/);
    }
  });

  it('fails the set when a template is missing', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-tmpl-'));
    try {
      for (const name of TEMPLATE_NAMES.filter((n) => n !== 'dsn')) {
        fs.copyFileSync(path.join(SHIPPED, `${name}.tmpl`), path.join(dir, `${name}.tmpl`));
      }
      assert.throws(() => loadTemplateSet(dir), { code: 'ENOENT' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Broken fixtures: file, line, message pattern. */
const BROKEN: [string, number, RegExp][] = [
  ['unclosed-for.tmpl', 6, /<FOR OBJECT \.\.\.> is not closed/],
  ['stray-endfor.tmpl', 8, /unexpected <\/FOR>/],
  ['unknown-macro.tmpl', 4, /unknown macro SENDER/],
  ['latin1.tmpl', 4, /invalid UTF-8 byte sequence/],
  ['missing-empty-line.tmpl', 3, /expected a header field "Name: value" or the empty line/],
  ['percent-sign.tmpl', 5, /write \\% for a literal percent sign/],
];

describe('checkTemplateFile', () => {
  it('accepts a valid fixture', () => {
    assert.deepEqual(checkTemplateFile(path.join(FIXTURES, 'valid-minimal.tmpl')), { ok: true });
  });

  for (const [name, line, message] of BROKEN) {
    it(`rejects ${name} at line ${line}`, () => {
      const file = path.join(FIXTURES, name);
      const result = checkTemplateFile(file);
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.error.file, file);
      assert.equal(result.error.line, line);
      assert.match(result.error.message, message);
    });
  }

  it('throws when the file cannot be read', () => {
    assert.throws(() => checkTemplateFile(path.join(FIXTURES, 'no-such.tmpl')), { code: 'ENOENT' });
  });
});

describe('runTlv', () => {
  it('confirms each valid file and exits 0', () => {
    const files = TEMPLATE_NAMES.map((n) => path.join(SHIPPED, `${n}.tmpl`));
    const result = tlv(files);
    assert.equal(result.status, 0);
    assert.equal(result.out, files.map((f) => `${f}: template is valid\n`).join(''));
    assert.equal(result.err, '');
  });

  it('prints FILE:LINE: message and exits 1 for an invalid file', () => {
    const file = path.join(FIXTURES, 'stray-endfor.tmpl');
    const result = tlv([file]);
    assert.equal(result.status, 1);
    assert.equal(result.out, '');
    assert.equal(result.err, `${file}:8: unexpected </FOR> without an open <FOR ...>\n`);
  });

  it('checks every file when one is invalid', () => {
    const bad = path.join(FIXTURES, 'unknown-macro.tmpl');
    const good = path.join(FIXTURES, 'valid-minimal.tmpl');
    const result = tlv([bad, good]);
    assert.equal(result.status, 1);
    assert.equal(result.out, `${good}: template is valid\n`);
    assert.match(result.err, /^.*unknown-macro\.tmpl:4: unknown macro SENDER/);
  });

  it('exits 2 with usage when no file is given', () => {
    const result = tlv([]);
    assert.equal(result.status, 2);
    assert.match(result.err, /no template file given\nusage: mailgw tlv FILE \[FILE\.\.\.\]/);
  });

  it('exits 2 for an unreadable file', () => {
    const missing = path.join(FIXTURES, 'no-such.tmpl');
    const result = tlv([path.join(FIXTURES, 'stray-endfor.tmpl'), missing]);
    assert.equal(result.status, 2);
    assert.match(result.err, new RegExp(`cannot read ${missing.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: ENOENT`));
  });

  it('exits 2 for an unknown option', () => {
    const result = tlv(['-x', 'a.tmpl']);
    assert.equal(result.status, 2);
    assert.match(result.err, /unknown option -x/);
  });

  it('prints usage for --help', () => {
    const result = tlv(['--help']);
    assert.equal(result.status, 0);
    assert.match(result.out, /^usage: mailgw tlv/);
  });

  it('treats arguments after -- as files', () => {
    const result = tlv(['--', '-odd-name.tmpl']);
    assert.equal(result.status, 2);
    assert.match(result.err, /cannot read -odd-name\.tmpl/);
  });
});
