// Anti-virus end to end: the real gateway (`mailgw start`), a real private clamd with the bundled
// signatures (reached over ClamdSocket) and an SMTP sink. Messages are built from corpus messages
// with EICAR, zips and the PUA test marker attached; each check reads the delivered bytes.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { startClamd, type RunningClamd } from '../../src/av/clamd-service';
import { splitMessage } from '../../src/mime';
import { attachedMessage, FIXTURES, messageWith, splitRaw, uuencodedMessage } from '../helpers/av-messages';
import { zipOf } from '../helpers/archives';
import { eicar, encryptedZip, freeLoopbackPort, puaMarker } from '../helpers/clamd';
import { PACKAGE_ROOT, startTestGateway, type TestGateway } from '../helpers/gateway';
import { startSink, type Sink } from '../helpers/sink';
import { freePort, sendMail } from '../helpers/smtp';

const eicarFile = () => ({ filename: 'eicar.com', contentType: 'application/octet-stream', content: eicar() });

function conf(sinkPort: number, clamdPort: number, quarantine: string): string {
  return `
[mailgw.network]
ListenOn=127.0.0.1:%PORT%
Hostname=gw.test.example
Postmaster=admin@corp.example
ProtectedDomains=*.example

[mailgw.forward]
ForwardRoute=* [127.0.0.1:${sinkPort}]

[mailgw.timeouts]
ScanTimeout=10

[mailgw.antivirus]
ClamdSocket=127.0.0.1:${clamdPort}
ClamdDatabaseDirectory=${path.join(PACKAGE_ROOT, 'clamav', 'db')}

[mailgw.options]
TemplatesPath=${path.join(PACKAGE_ROOT, 'config', 'templates')}

[mailgw.policy]
CheckSpam=false
BlockMessage=
ActionInfected=remove
ActionSuspicious=remove
ActionProtected=remove
ActionError=remove

[mailgw.group:pass]
Recipients=*@pass.example
ActionInfected=pass

[mailgw.group:placeholder]
Recipients=*@placeholder.example
ActionInfected=placeholder
ActionProtected=placeholder

[mailgw.group:filter]
Recipients=*@filter.example
IncludeByName=*.exe
ActionFiltered=remove

# KMG guide: block messages with objects that cannot be cured (5.3.3).
[mailgw.group:block]
Recipients=*@block.example
CheckAV=true
AVCure=true
ActionDisinfected=cure
ActionInfected=pass
ActionSuspicious=pass
ActionProtected=pass
ActionError=pass
BlockMessage=av/infected,av/suspicious,
BlockMessage=av/protected,av/error

# KMG guide: block and quarantine (5.3.6), with a quarantine directory of the test.
[mailgw.group:quarantine]
Recipients=*@quarantine.example
AVCure=true
ActionDisinfected=cure
ActionInfected=pass
ActionSuspicious=pass
ActionProtected=pass
ActionError=pass
BlockMessage=av/infected,av/suspicious,av/protected,av/error
QuarantineMessage=av/infected,av/suspicious,
QuarantineMessage=av/protected,av/error
AVQuarantinePath=${quarantine}

# KMG guide: attachment rules of the managers, accounts and sales groups (5.3.5).
[mailgw.group:managers]
Recipients=*@managers.example
IncludeByName=*.exe
IncludeByName=*.reg
ActionFiltered=remove

[mailgw.group:accounts]
Recipients=*@accounts.example
ExcludeByName=*.doc
ActionFiltered=remove

[mailgw.group:sales]
Recipients=*@sales.example
IncludeByName=*.exe
BlockMessage=av/filtered
`;
}

function headerValues(raw: Buffer, name: string): string[] {
  const header = splitRaw(raw).header.replace(/\r?\n[ \t]+/g, ' ');
  const prefix = `${name.toLowerCase()}:`;
  return header.split(/\r?\n/).filter((line) => line.toLowerCase().startsWith(prefix)).map((line) => line.slice(prefix.length).trim());
}

function objectsOf(raw: Buffer) {
  return splitMessage(raw).objects;
}

describe('anti-virus end to end', () => {
  let gateway: TestGateway;
  let sink: Sink;
  let clamd: RunningClamd;
  let clamdPort: number;
  let clamdDir: string;
  let quarantine: string;

  const startOurClamd = () => startClamd({ stateDir: clamdDir, socket: { tcp: { host: '127.0.0.1', port: clamdPort } } });

  before(async () => {
    clamdDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-av-clamd-'));
    quarantine = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-av-quarantine-'));
    clamdPort = await freeLoopbackPort();
    clamd = await startOurClamd();
    sink = await startSink(await freePort());
    gateway = await startTestGateway({ conf: conf(sink.port, clamdPort, quarantine) });
  });

  after(async () => {
    await gateway?.stop();
    await sink?.close();
    await clamd?.stop();
    fs.rmSync(clamdDir, { recursive: true, force: true });
    fs.rmSync(quarantine, { recursive: true, force: true });
  });

  function subjectOf(message: string | Buffer): string {
    return headerValues(Buffer.from(message), 'Subject')[0] ?? '';
  }

  function delivered(subject: string): Buffer[] {
    return sink.messages.filter((m) => headerValues(m.raw, 'Subject')[0] === subject).map((m) => m.raw);
  }

  // Notifications reach the same sink, so the delivered copy is found by its Subject.
  async function waitForSubject(subject: string, timeoutMs = 30_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = delivered(subject);
      if (found.length > 0) return found[0];
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`no message with Subject "${subject}" delivered within ${timeoutMs} ms\n${gateway.output().slice(-3000)}`);
  }

  async function deliver(message: string | Buffer, to = 'user@corp.example'): Promise<Buffer> {
    const result = await sendMail({ port: gateway.port, from: 'sender@outside.example', to: [to], message });
    assert.equal(result.final?.code, 250, `final reply: ${result.final?.code} ${result.final?.text}\n${gateway.output().slice(-3000)}`);
    return waitForSubject(subjectOf(message));
  }

  async function sendBlocked(message: string, to: string): Promise<void> {
    const result = await sendMail({ port: gateway.port, from: 'sender@outside.example', to: [to], message });
    assert.equal(result.final?.code, 250);
    await gateway.waitForOutput(new RegExp(`block stage=policy[^\n]*to=${to.replace(/[.@]/g, '\\$&')}`));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(delivered(subjectOf(message)).length, 0, 'a blocked copy is not delivered');
  }

  function assertRemoved(raw: Buffer, filename: string): void {
    const names = objectsOf(raw).map((o) => o.filename);
    assert.ok(!names.includes(filename), `${filename} is gone: ${names.join(', ')}`);
    assert.ok(!raw.includes(eicar()), 'no EICAR bytes left');
  }

  it('removes EICAR in a plain attachment', async () => {
    const sent = messageWith('plain eicar', [eicarFile()]);
    const raw = await deliver(sent);
    assertRemoved(raw, 'eicar.com');
    assert.match(headerValues(raw, 'X-Anti-Virus')[0], /^haraka-mailgw \S+, bases: \d{8} #\d+, check: \d{8} infected$/);
    // The text part is delivered with its exact bytes.
    const textPart = splitRaw(Buffer.from(sent)).body.toString('latin1').split('--=_mailgw_av_plaineicar')[1];
    assert.ok(raw.toString('latin1').includes(textPart), 'text part unchanged');
  });

  it('removes EICAR in a zip', async () => {
    const raw = await deliver(messageWith('zip eicar', [{ filename: 'eicar.zip', contentType: 'application/zip', content: zipOf({ 'eicar.com': eicar() }) }]));
    assert.ok(!objectsOf(raw).some((o) => o.filename === 'eicar.zip'));
    assert.match(headerValues(raw, 'X-Anti-Virus')[0], /infected$/);
  });

  it('removes EICAR in a nested zip', async () => {
    const nested = zipOf({ 'inner.zip': zipOf({ 'eicar.com': eicar() }) });
    const raw = await deliver(messageWith('nested zip eicar', [{ filename: 'outer.zip', contentType: 'application/zip', content: nested }]));
    assert.ok(!objectsOf(raw).some((o) => o.filename === 'outer.zip'));
    assert.match(headerValues(raw, 'X-Anti-Virus')[0], /infected$/);
  });

  it('removes EICAR uuencoded in a text body', async () => {
    const raw = await deliver(uuencodedMessage('uuencoded eicar', 'eicar.com', eicar()));
    assert.ok(!raw.includes('begin 644 eicar.com'), 'uuencoded block removed');
    assert.ok(raw.includes('Regards.'), 'the text around it stays');
    assert.match(headerValues(raw, 'X-Anti-Virus')[0], /infected$/);
  });

  it('removes EICAR inside an attached message', async () => {
    const inner = messageWith('inner', [eicarFile()]);
    const raw = await deliver(messageWith('attached message eicar', [attachedMessage(inner)]));
    assertRemoved(raw, 'eicar.com');
    assert.ok(raw.includes('Subject: inner'), 'the attached message itself stays');
  });

  it('removes an encrypted zip as protected', async () => {
    const raw = await deliver(messageWith('encrypted zip', [{ filename: 'secret.zip', contentType: 'application/zip', content: encryptedZip('a.txt', Buffer.from('hi')) }]));
    assert.ok(!objectsOf(raw).some((o) => o.filename === 'secret.zip'));
    assert.match(headerValues(raw, 'X-Anti-Virus')[0], /protected$/);
  });

  it('removes the PUA marker as suspicious', async () => {
    const raw = await deliver(messageWith('pua marker', [{ filename: 'tool.txt', contentType: 'text/plain', content: puaMarker() }]));
    assert.ok(!objectsOf(raw).some((o) => o.filename === 'tool.txt'));
    assert.match(headerValues(raw, 'X-Anti-Virus')[0], /suspicious$/);
  });

  it('passes EICAR with ActionInfected=pass', async () => {
    const raw = await deliver(messageWith('pass eicar', [eicarFile()]), 'user@pass.example');
    const attachment = objectsOf(raw).find((o) => o.filename === 'eicar.com');
    assert.ok(attachment, 'attachment delivered');
    assert.deepEqual(attachment.decoded, eicar());
    assert.match(headerValues(raw, 'X-Anti-Virus')[0], /infected$/);
  });

  it('replaces EICAR with a placeholder', async () => {
    const raw = await deliver(messageWith('placeholder eicar', [eicarFile()]), 'user@placeholder.example');
    assertRemoved(raw, 'eicar.com');
    const texts = objectsOf(raw).filter((o) => o.contentType === 'text/plain').map((o) => o.decoded.toString('utf8'));
    const notice = texts.find((text) => text.includes('removed an object'));
    assert.ok(notice, `placeholder text present: ${texts.join('\n---\n')}`);
    assert.match(notice, /Name: +eicar\.com/);
    assert.match(notice, /Status: +infected/);
    assert.match(notice, /Detected: +MailGW\.Test\.EICAR/);
    assert.match(raw.toString('latin1'), /Content-Description: Removed object eicar\.com/);
  });

  it('delivers a clean multipart unchanged', async () => {
    const sent = fs.readFileSync(path.join(FIXTURES, 'mime', 'multi-nested.msg'));
    const wire = Buffer.from(sent.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
    const raw = await deliver(wire);
    const original = splitRaw(wire);
    const delivered = splitRaw(raw);
    assert.ok(delivered.body.equals(original.body), 'body byte-identical');
    const originalLines = original.header.split(/\r\n(?![ \t])/);
    const added = delivered.header.split(/\r\n(?![ \t])/).filter((line) => !originalLines.includes(line));
    for (const line of added) assert.match(line, /^(Received|X-Anti-Virus|Message-Id|Date):/i);
    assert.match(headerValues(raw, 'X-Anti-Virus')[0], /clean$/);
  });

  it('filters *.exe inside a zip', async () => {
    const zip = zipOf({ 'docs/run.exe': 'MZ harmless', 'readme.txt': 'hello' });
    const raw = await deliver(messageWith('exe in zip', [{ filename: 'invoice.zip', contentType: 'application/zip', content: zip }]), 'user@filter.example');
    assert.ok(!objectsOf(raw).some((o) => o.filename === 'invoice.zip'));
    assert.match(headerValues(raw, 'X-Anti-Virus')[0], /filtered$/);
    await gateway.waitForOutput(/objects=[^ ]*av\/filtered/);
  });

  it('blocks EICAR in the KMG block recipe', async () => {
    await sendBlocked(messageWith('block recipe', [eicarFile()], 'user@block.example'), 'user@block.example');
  });

  it('quarantines EICAR in the KMG quarantine recipe', async () => {
    await sendBlocked(messageWith('quarantine recipe', [eicarFile()], 'user@quarantine.example'), 'user@quarantine.example');
    const entries = fs.readdirSync(quarantine).filter((name) => name.endsWith('.json'));
    assert.equal(entries.length, 1);
    const metadata = JSON.parse(fs.readFileSync(path.join(quarantine, entries[0]), 'utf8')) as Record<string, unknown>;
    assert.match(JSON.stringify(metadata), /av\/infected/);
  });

  it('applies the KMG managers, accounts and sales rules', async () => {
    const exe = { filename: 'setup.exe', contentType: 'application/octet-stream', content: Buffer.from('MZ harmless') };
    const reg = { filename: 'keys.reg', contentType: 'text/plain', content: Buffer.from('REGEDIT4') };
    const doc = { filename: 'report.doc', contentType: 'application/msword', content: Buffer.from('not really a doc') };
    const pdf = { filename: 'report.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF-1.4 harmless') };

    const managers = await deliver(messageWith('managers', [exe, reg, doc]), 'boss@managers.example');
    assert.deepEqual(objectsOf(managers).map((o) => o.filename).filter(Boolean), ['report.doc']);

    const accounts = await deliver(messageWith('accounts', [doc, pdf]), 'clerk@accounts.example');
    assert.deepEqual(objectsOf(accounts).map((o) => o.filename).filter(Boolean), ['report.doc']);

    await sendBlocked(messageWith('sales', [exe]), 'rep@sales.example');
    const salesClean = await deliver(messageWith('sales clean', [pdf]), 'rep@sales.example');
    assert.ok(objectsOf(salesClean).some((o) => o.filename === 'report.pdf'));
  });

  it('passes every malformed corpus message without a crash', async () => {
    const dir = path.join(FIXTURES, 'mime', 'malformed');
    for (const name of fs.readdirSync(dir).sort()) {
      // SMTP carries CRLF line ends; Haraka rejects bare LF, as a real client would never send it.
      const data = Buffer.from(fs.readFileSync(path.join(dir, name)).toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
      const result = await sendMail({ port: gateway.port, from: 'sender@outside.example', to: ['user@corp.example'], message: data });
      assert.ok(result.final && result.final.code === 250, `${name}: ${result.final?.code} ${result.final?.text}`);
    }
    assert.equal(gateway.process.exitCode, null, 'gateway still running');
  });

  it('answers 4xx while clamd is down, then delivers', async () => {
    await clamd.stop();
    const message = messageWith('clamd down', [eicarFile()]);
    const first = await sendMail({ port: gateway.port, from: 'sender@outside.example', to: ['user@corp.example'], message });
    assert.equal(first.final?.code, 451, first.final?.text);
    assert.equal(first.final?.enhanced, '4.3.0');

    clamd = await startOurClamd();
    const raw = await deliver(message);
    assertRemoved(raw, 'eicar.com');
  });
});
