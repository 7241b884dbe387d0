// The private clamds of [mailgw.local] Clamd=true, with the KMG guide's maximum speed mode in the
// policy and its recommended mode in a group. The two modes differ in AVScanArchives and
// AVScanMailBases, so the launcher starts two clamds with different ScanArchive and ScanMail.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { splitMessage } from '../../src/mime';
import { FIXTURES, messageWith, splitRaw, localClamdPreamble } from '../helpers/av-messages';
import { zipOf } from '../helpers/archives';
import { eicar, encryptedZip } from '../helpers/clamd';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { startSink, type Sink } from '../helpers/sink';
import { freePort, sendMail } from '../helpers/smtp';

// The entry is not named *.com, which List1 filters inside archives too. Padding makes deflate shrink the entry, so the EICAR bytes do not appear in the zip as stored.
const eicarZip = () => ({ filename: 'parcel.zip', contentType: 'application/zip', content: zipOf({ 'eicar.txt': Buffer.concat([eicar(), Buffer.alloc(4000, 0x41)]) }) });
const eicarFile = () => ({ filename: 'eicar.com', contentType: 'application/octet-stream', content: eicar() });

function conf(sinkPort: number): string {
  return `
${localClamdPreamble(sinkPort)}
# KMG guide: maximum speed mode (5.4.1), as written.
[mailgw.policy]
SpamRateLimit=minimum
AVCure=false
AVScanArchives=false
AVScanMailBases=false
CheckAV=true
CheckSpam=true
IncludeByName=file:List1
MarkSubject=probable,formal,blacklisted
ActionFiltered=pass
ActionInfected=pass
ActionSuspicious=pass
ActionProtected=pass
ActionError=pass
BlockMessage=av/infected,av/filtered,as/spam
NotifyRecipient=av/infected,av/filtered

# KMG guide: recommended mode (5.4.2), as written, for one domain.
[mailgw.group:recommended]
Recipients=*@recommended.example
SpamDetection=standard
AVCure=true
AVScanArchives=true
AVScanMailBases=true
CheckAV=true
CheckSpam=true
MarkSubject=spam,probable,formal,blacklisted
ActionDisinfected=cure
ActionInfected=placeholder
ActionSuspicious=placeholder
ActionProtected=pass
ActionError=pass
BlockMessage=av/protected,av/error
QuarantineMessage=av/protected,av/error
NotifyRecipient=av/protected,av/error
`;
}

function headerValues(raw: Buffer, name: string): string[] {
  const header = splitRaw(raw).header.replace(/\r?\n[ \t]+/g, ' ');
  const prefix = `${name.toLowerCase()}:`;
  return header.split(/\r?\n/).filter((line) => line.toLowerCase().startsWith(prefix)).map((line) => line.slice(prefix.length).trim());
}

describe('private clamds and the KMG modes', () => {
  let gateway: TestGateway;
  let sink: Sink;

  before(async () => {
    sink = await startSink(await freePort());
    const list = fs.readFileSync(path.join(FIXTURES, 'config', 'lists', 'List1'), 'utf8');
    gateway = await startTestGateway({ conf: conf(sink.port), files: { List1: list } });
  });

  after(async () => {
    await gateway?.stop();
    await sink?.close();
  });

  function delivered(subject: string): Buffer[] {
    return sink.messages.filter((m) => headerValues(m.raw, 'Subject')[0] === subject).map((m) => m.raw);
  }

  async function send(subject: string, to: string, parts: Parameters<typeof messageWith>[1]): Promise<void> {
    const result = await sendMail({ port: gateway.port, from: 'sender@outside.example', to: [to], message: messageWith(subject, parts, to) });
    assert.equal(result.final?.code, 250, `${result.final?.code} ${result.final?.text}\n${gateway.output().slice(-3000)}`);
  }

  async function deliver(subject: string, to: string, parts: Parameters<typeof messageWith>[1]): Promise<Buffer> {
    await send(subject, to, parts);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const found = delivered(subject);
      if (found.length > 0) return found[0];
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`"${subject}" not delivered\n${gateway.output().slice(-3000)}`);
  }

  async function block(subject: string, to: string, parts: Parameters<typeof messageWith>[1]): Promise<void> {
    await send(subject, to, parts);
    await gateway.waitForOutput(new RegExp(`block stage=policy[^\\n]*to=${to.replace(/[.@]/g, '\\$&')}`));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(delivered(subject).length, 0, `"${subject}" is not delivered`);
  }

  it('starts one clamd per scan variant', () => {
    assert.match(gateway.output(), /local clamd \(plain\) listening on \S+\/var\/clamd\/plain\/clamd\.sock/);
    assert.match(gateway.output(), /local clamd \(archives-mail\) listening on \S+\/var\/clamd\/archives-mail\/clamd\.sock/);
  });

  it('speed mode: blocks EICAR', async () => {
    await block('speed eicar', 'user@corp.example', [eicarFile()]);
  });

  it('speed mode: blocks a listed name', async () => {
    await block('speed exe', 'user2@corp.example', [{ filename: 'game.scr', contentType: 'application/octet-stream', content: Buffer.from('harmless') }]);
  });

  it('speed mode: leaves archives closed', async () => {
    const raw = await deliver('speed zip', 'user3@corp.example', [eicarZip()]);
    assert.ok(splitMessage(raw).objects.some((o) => o.filename === 'parcel.zip'), 'zip delivered unopened');
    assert.match(headerValues(raw, 'X-Anti-Virus')[0], /, check: \d{8} clean$/);
  });

  it('recommended mode: placeholder for zip', async () => {
    const raw = await deliver('recommended zip', 'user@recommended.example', [eicarZip()]);
    const objects = splitMessage(raw).objects;
    const decisions = gateway.output().split('\n').filter((line) => line.includes('stage=policy')).join('\n');
    assert.ok(!objects.some((o) => o.filename === 'parcel.zip'), decisions);
    assert.ok(objects.some((o) => o.decoded.toString('utf8').includes('Detected: MailGW.Test.EICAR')), 'placeholder names the signature');
    assert.match(headerValues(raw, 'X-Anti-Virus')[0], /infected$/);
  });

  it('recommended mode: quarantines encrypted zip', async () => {
    await block('recommended encrypted', 'user2@recommended.example', [{ filename: 'secret.zip', contentType: 'application/zip', content: encryptedZip('a.txt', Buffer.from('hi')) }]);
    const quarantine = path.join(gateway.dir, 'var', 'quarantine', 'av');
    const entries = fs.readdirSync(quarantine).filter((name) => name.endsWith('.json'));
    assert.equal(entries.length, 1);
    assert.match(fs.readFileSync(path.join(quarantine, entries[0]), 'utf8'), /av\/protected/);
  });
});
