// Encrypted archives end to end: the real gateway with its private clamd ([mailgw.local]
// Clamd=true). clamd 1.4.6 replies OK for encrypted rar 5 archives even with AlertEncrypted, so
// these checks show that the archive listing makes them av/protected, with and without
// IncludeByName masks, and that encrypted zip and 7z archives stay av/protected.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { splitMessage } from '../../src/mime';
import { FIXTURES, messageWith, splitRaw, localClamdPreamble } from '../helpers/av-messages';
import { encryptedZip } from '../helpers/clamd';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { startSink, type Sink } from '../helpers/sink';
import { freePort, sendMail } from '../helpers/smtp';

const archiveFixture = (name: string): Buffer => fs.readFileSync(path.join(FIXTURES, 'av', 'archives', name));

function conf(sinkPort: number): string {
  return `
${localClamdPreamble(sinkPort)}
[mailgw.policy]
CheckSpam=false
BlockMessage=
ActionProtected=placeholder

[mailgw.group:masks]
Recipients=*@masks.example
IncludeByName=*.exe
ActionFiltered=remove

[mailgw.group:block]
Recipients=*@block.example
BlockMessage=av/infected,av/suspicious,av/protected,av/error
`;
}

function headerValues(raw: Buffer, name: string): string[] {
  const header = splitRaw(raw).header.replace(/\r?\n[ \t]+/g, ' ');
  const prefix = `${name.toLowerCase()}:`;
  return header.split(/\r?\n/).filter((line) => line.toLowerCase().startsWith(prefix)).map((line) => line.slice(prefix.length).trim());
}

interface Case {
  filename: string;
  contentType: string;
  content: () => Buffer;
  detected: RegExp;
}

const CASES: Case[] = [
  { filename: 'names.rar', contentType: 'application/vnd.rar', content: () => archiveFixture('rar5-hpsw.rar'), detected: /^encrypted rar5 archive: entry names are encrypted$/ },
  { filename: 'data.rar', contentType: 'application/vnd.rar', content: () => archiveFixture('rar5-psw.rar'), detected: /^encrypted rar5 archive: entry stest1\.txt and 1 more encrypted$/ },
  { filename: 'names.7z', contentType: 'application/x-7z-compressed', content: () => archiveFixture('t2.7z'), detected: /^Heuristics\.Encrypted\.7Zip$/ },
  { filename: 'data.7z', contentType: 'application/x-7z-compressed', content: () => archiveFixture('t5.7z'), detected: /^Heuristics\.Encrypted\.7Zip$/ },
  { filename: 'secret.zip', contentType: 'application/zip', content: () => encryptedZip('a.txt', Buffer.from('hi')), detected: /^Heuristics\.Encrypted\.Zip$/ },
];

describe('encrypted archives through the gateway', () => {
  let gateway: TestGateway;
  let sink: Sink;

  before(async () => {
    sink = await startSink(await freePort());
    gateway = await startTestGateway({ conf: conf(sink.port) });
  });

  after(async () => {
    await gateway?.stop();
    await sink?.close();
  });

  function delivered(subject: string): Buffer[] {
    return sink.messages.filter((m) => headerValues(m.raw, 'Subject')[0] === subject).map((m) => m.raw);
  }

  async function send(subject: string, to: string, attachment: Case): Promise<void> {
    const message = messageWith(subject, [{ filename: attachment.filename, contentType: attachment.contentType, content: attachment.content() }], to);
    const result = await sendMail({ port: gateway.port, from: 'sender@outside.example', to: [to], message });
    assert.equal(result.final?.code, 250, `${result.final?.code} ${result.final?.text}\n${gateway.output().slice(-3000)}`);
  }

  async function deliver(subject: string, to: string, attachment: Case): Promise<Buffer> {
    await send(subject, to, attachment);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const found = delivered(subject);
      if (found.length > 0) return found[0];
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`"${subject}" not delivered\n${gateway.output().slice(-3000)}`);
  }

  function assertProtected(raw: Buffer, attachment: Case): void {
    const objects = splitMessage(raw).objects;
    assert.ok(!objects.some((o) => o.filename === attachment.filename), `${attachment.filename} replaced`);
    assert.match(headerValues(raw, 'X-Anti-Virus')[0] ?? '', /, check: \d{8} protected$/);

    const notice = objects.map((o) => o.decoded.toString('utf8')).find((text) => text.includes('removed an object'));
    assert.ok(notice, 'placeholder present');
    assert.match(notice, /Status: +protected/);
    const detected = /Detected: +(.*)/.exec(notice)?.[1].trim() ?? '';
    assert.match(detected, attachment.detected);
  }

  for (const attachment of CASES) {
    it(`${attachment.filename} without masks is protected`, async () => {
      const raw = await deliver(`plain ${attachment.filename}`, 'user@corp.example', attachment);
      assertProtected(raw, attachment);
    });

    it(`${attachment.filename} with masks is protected`, async () => {
      const raw = await deliver(`masks ${attachment.filename}`, 'user@masks.example', attachment);
      assertProtected(raw, attachment);
    });
  }

  it('default BlockMessage blocks encrypted rar', async () => {
    const subject = 'blocked rar';
    await send(subject, 'user@block.example', CASES[0]);
    await gateway.waitForOutput(/block stage=policy[^\n]*to=user@block\.example/);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(delivered(subject).length, 0, 'the blocked copy is not delivered');
    assert.match(gateway.output(), /objects=[^ ]*av\/protected[^\n]*to=user@block\.example|to=user@block\.example[^\n]*objects=[^ ]*av\/protected/);
  });
});
