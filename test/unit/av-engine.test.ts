// The built-in clamd engine against a real private clamd, and its helpers: archive entry masks,
// database facts for X-Anti-Virus, clamd size limits and scan variants.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { basesFrom, readDatabaseFacts } from '../../src/av/bases';
import { ClamdClient } from '../../src/av/clamd';
import { bundledDatabaseDir } from '../../src/av/clamd-service';
import { archiveEntryFiltered, ClamdEngine } from '../../src/av/engine';
import { checkClamdLimits, parseClamdConfLimits, scanVariantsInUse } from '../../src/av/local-clamd';
import { copyObjectEditor, objectEditor } from '../../src/av/object-editor';
import type { PolicySettings } from '../../src/config';
import { splitMessage, type MimeObject } from '../../src/mime';
import { parseTemplate } from '../../src/notify/template';
import { EngineUnavailableError, type MessageContext } from '../../src/pipeline/engines';
import { zipOf } from '../helpers/archives';
import { FIXTURES } from '../helpers/av-messages';
import { eicar, encryptedZip, freeLoopbackPort, puaMarker, startTestClamdEngine, type TestClamd } from '../helpers/clamd';

const archiveFixture = (name: string): Buffer => fs.readFileSync(path.join(FIXTURES, 'av', 'archives', name));

const context: MessageContext = { transactionId: 'T1', mailFrom: 'a@b.example', recipients: ['c@d.example'], clientIp: '127.0.0.1', clientHost: null, helo: null };

function settings(overrides: Partial<Record<string, unknown>> = {}): PolicySettings {
  return { AVScanArchives: true, AVScanMailBases: true, IncludeByName: [], ExcludeByName: [], ...overrides } as unknown as PolicySettings;
}

function object(decoded: Buffer, extra: Partial<MimeObject> = {}): MimeObject {
  return {
    id: '2', path: [2], kind: 'part', contentType: 'application/octet-stream', charset: null, filename: 'x.bin', disposition: 'attachment',
    transferEncoding: 'base64', size: decoded.length, decoded, rawRange: { start: 0, end: 0 }, digest: 'd', nested: false, ...extra,
  };
}

describe('ClamdEngine', () => {
  let clamd: TestClamd;
  let engine: ClamdEngine;

  before(async () => {
    ({ clamd, engine } = await startTestClamdEngine());
  });

  after(async () => {
    await clamd?.stop();
  });

  it('maps verdicts to statuses', async () => {
    assert.deepEqual(await engine.scan(object(Buffer.from('hello')), context, settings()), { status: 'av/clean' });
    assert.deepEqual(await engine.scan(object(eicar()), context, settings()), { status: 'av/infected', detail: 'MailGW.Test.EICAR' });
    assert.equal((await engine.scan(object(puaMarker()), context, settings())).status, 'av/suspicious');
    assert.equal((await engine.scan(object(encryptedZip('a.txt', Buffer.from('x'))), context, settings())).status, 'av/protected');
  });

  it('marks an undecoded clean object as error', async () => {
    const verdict = await engine.scan(object(Buffer.from('=?broken'), { error: 'invalid base64' }), context, settings());
    assert.equal(verdict.status, 'av/error');
    assert.match(verdict.detail ?? '', /invalid base64/);
  });

  it('filters an archive by entry name', async () => {
    const zip = zipOf({ 'docs/run.exe': 'MZ' });
    const verdict = await engine.scan(object(zip), context, settings({ IncludeByName: ['*.exe'] }));
    assert.deepEqual(verdict, { status: 'av/filtered', detail: 'archive entry docs/run.exe' });
    const closed = await engine.scan(object(zip), context, settings({ IncludeByName: ['*.exe'], AVScanArchives: false }));
    assert.equal(closed.status, 'av/clean');
  });

  it('unreadable archive is an error', async () => {
    const corrupt = Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(64, 0xff)]);
    const verdict = await engine.scan(object(corrupt), context, settings({ IncludeByName: ['*.exe'] }));
    assert.equal(verdict.status, 'av/error');
    const withoutMasks = await engine.scan(object(corrupt), context, settings());
    assert.equal(withoutMasks.status, 'av/error');
    assert.match(withoutMasks.detail ?? '', /^archive not listed: /);
  });

  it('encrypted rar 5 is protected', async () => {
    for (const masks of [[], ['*.exe']]) {
      const names = await engine.scan(object(archiveFixture('rar5-hpsw.rar')), context, settings({ IncludeByName: masks }));
      assert.deepEqual(names, { status: 'av/protected', detail: 'encrypted rar5 archive: entry names are encrypted' }, `IncludeByName=${masks.join(',')}`);
      const data = await engine.scan(object(archiveFixture('rar5-psw.rar')), context, settings({ IncludeByName: masks }));
      assert.deepEqual(data, { status: 'av/protected', detail: 'encrypted rar5 archive: entry stest1.txt and 1 more encrypted' }, `IncludeByName=${masks.join(',')}`);
    }
  });

  it('encrypted zip and 7z are protected', async () => {
    const zip = await engine.scan(object(encryptedZip('a.txt', Buffer.from('x'))), context, settings());
    assert.deepEqual(zip, { status: 'av/protected', detail: 'Heuristics.Encrypted.Zip' });
    for (const name of ['t2.7z', 't5.7z']) {
      const verdict = await engine.scan(object(archiveFixture(name)), context, settings());
      assert.equal(verdict.status, 'av/protected', name);
    }
  });

  it('encrypted rar in a zip is protected', async () => {
    const zip = zipOf({ 'note.txt': 'x', 'parcel.rar': archiveFixture('rar5-hpsw.rar') });
    const verdict = await engine.scan(object(zip), context, settings());
    assert.deepEqual(verdict, { status: 'av/protected', detail: 'encrypted rar5 archive parcel.rar: entry names are encrypted' });
  });

  it('infected beats encrypted', async () => {
    const zip = zipOf({ 'eicar.com': eicar(), 'parcel.rar': archiveFixture('rar5-psw.rar') });
    const verdict = await engine.scan(object(zip), context, settings());
    assert.equal(verdict.status, 'av/infected');
  });

  it('filtered entry beats encrypted', async () => {
    const verdict = await engine.scan(object(archiveFixture('rar5-psw.rar')), context, settings({ IncludeByName: ['stest1.*'] }));
    assert.deepEqual(verdict, { status: 'av/filtered', detail: 'archive entry stest1.txt' });
  });

  it('reads bases from the database files', async () => {
    const bases = await engine.bases();
    assert.ok(bases.signatures >= 3, `signatures ${bases.signatures}`);
    assert.ok(bases.date instanceof Date);
    assert.match(engine.version, /^\d+\.\d+/);
  });

  it('throws EngineUnavailableError without clamd', async () => {
    const client = new ClamdClient({ socket: `127.0.0.1:${await freeLoopbackPort()}`, timeoutMs: 1000 });
    const down = new ClamdEngine({ clientFor: () => client, versionClient: client, databaseDirs: [], maxConcurrent: 1 });
    await assert.rejects(down.scan(object(Buffer.from('x')), context, settings()), EngineUnavailableError);
    await assert.rejects(down.bases(), EngineUnavailableError);
  });
});

describe('archiveEntryFiltered', () => {
  it('matches path or base name', () => {
    assert.equal(archiveEntryFiltered('a/b/run.exe', { IncludeByName: ['run.exe'], ExcludeByName: [] }), true);
    assert.equal(archiveEntryFiltered('a/b/run.exe', { IncludeByName: ['*.exe'], ExcludeByName: ['run.*'] }), false);
  });

  it('ignores the exclude-only form', () => {
    assert.equal(archiveEntryFiltered('word/document.xml', { IncludeByName: [], ExcludeByName: ['*.doc'] }), false);
  });
});

describe('database facts', () => {
  it('counts the bundled signatures', () => {
    const facts = readDatabaseFacts([bundledDatabaseDir()]);
    const lines = ['mailgw-test.ndb', 'mailgw-test.hdb']
      .flatMap((name) => fs.readFileSync(path.join(bundledDatabaseDir(), name), 'utf8').split('\n'))
      .filter((line) => line.trim() !== '' && !line.startsWith('#'));
    assert.equal(facts.signatures, lines.length);
    assert.ok(facts.newestFile);
  });

  it('reads the count from a cvd header', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-cvd-'));
    try {
      const header = Buffer.alloc(512, 0x20);
      header.write('ClamAV-VDB:04 Dec 2026 09-00 +0000:27000:355000:90:md5:sig:builder:1796374800');
      fs.writeFileSync(path.join(dir, 'daily.cvd'), header);
      assert.equal(readDatabaseFacts([dir]).signatures, 355000);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prefers the VERSION date', () => {
    const dbDate = new Date(2026, 11, 3, 9, 0, 0);
    const bases = basesFrom({ engine: '1.4.3', dbVersion: 27000, dbDate, raw: '' }, { signatures: 5, newestFile: new Date(0) });
    assert.deepEqual(bases, { date: dbDate, signatures: 5 });
    assert.equal(basesFrom({ engine: '1.4.3', dbVersion: null, dbDate: null, raw: '' }, { signatures: 0, newestFile: null }), null);
  });
});

describe('clamd limits', () => {
  it('reports limits below the message size', () => {
    const problems = checkClamdLimits(20_000_000, { streamMaxLength: 10_000_000, maxFileSize: 30_000_000, maxScanSize: 30_000_000 }, 'test');
    assert.equal(problems.length, 1);
    assert.match(problems[0], /StreamMaxLength 10000000 bytes is below MaximalIncomingMessageSize 20000000/);
  });

  it('parses clamd.conf sizes and sockets', () => {
    const limits = parseClamdConfLimits('LocalSocket /run/clamav/clamd.ctl\nStreamMaxLength 25M\n# MaxFileSize 1M\nMaxScanSize 512K\n');
    assert.deepEqual(limits, { streamMaxLength: 25 * 1024 * 1024, maxFileSize: 100 * 1024 * 1024, maxScanSize: 512 * 1024, sockets: ['/run/clamav/clamd.ctl'] });
  });
});

describe('scanVariantsInUse', () => {
  it('lists each combination once', () => {
    const policy = { CheckAV: true, AVScanArchives: false, AVScanMailBases: false } as unknown as PolicySettings;
    const group = (archives: boolean, checkAv = true) => ({ settings: { CheckAV: checkAv, AVScanArchives: archives, AVScanMailBases: true } as unknown as PolicySettings });
    const variants = scanVariantsInUse({ policy, groups: [group(true), group(true), group(false, false)] as never });
    assert.deepEqual(variants, [{ archives: false, mail: false }, { archives: true, mail: true }]);
  });
});

describe('objectEditor', () => {
  const raw = Buffer.from(
    'Subject: t\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: application/octet-stream; name="v.com"\r\nContent-Transfer-Encoding: base64\r\n\r\nWDVP\r\n--b--\r\n',
  );
  const template = parseTemplate('Content-Description: Removed %OBJECT_NAME%\n\nRemoved %OBJECT_NAME% (%OBJECT_STATUS%, %OBJECT_VIRUS%, %OBJECT_SIZE% bytes) on %HOSTNAME%.\n', 'test.tmpl');
  const edit = objectEditor({ template: () => template, hostname: 'gw.example', postmaster: 'pm@gw.example', queueId: 'Q1', product: 'haraka-mailgw 0' });
  const outcome = { id: '2', filename: 'v.com', contentType: 'application/octet-stream', status: 'av/infected' as const, detail: 'Sig' };

  it('removes an object and keeps the rest', () => {
    const out = edit(raw, [{ ...outcome, action: 'remove' }]);
    assert.ok(!out.includes('WDVP'));
    assert.ok(out.includes('--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n'));
  });

  it('renders the placeholder', () => {
    const out = edit(raw, [{ ...outcome, action: 'placeholder' }]);
    const texts = splitMessage(out).objects.map((o) => o.decoded.toString('utf8'));
    assert.ok(texts.some((text) => text.includes('Removed v.com (infected, Sig, 3 bytes) on gw.example.')), texts.join('|'));
    assert.match(out.toString('latin1'), /Content-Description: Removed v\.com/);
  });

  it('removes a cure without cured bytes', () => {
    const out = edit(raw, [{ ...outcome, status: 'av/disinfected', action: 'cure' }]);
    assert.ok(!out.includes('WDVP'));
  });

  it('uses the size the outcome carries', () => {
    const out = edit(raw, [{ ...outcome, size: 4242, action: 'placeholder' }]);
    assert.match(out.toString('latin1'), /4242 bytes/);
  });

  it('falls back to the shipped placeholder template', () => {
    const settings = { PlaceholderTemplate: path.join(os.tmpdir(), 'mailgw-no-such-dir', 'placeholder.tmpl') } as unknown as PolicySettings;
    const copyEdit = copyObjectEditor(settings, { network: { Hostname: 'gw.example', Postmaster: 'pm@gw.example' } } as never, 'Q1', 'haraka-mailgw 0');
    const out = copyEdit(raw, [{ ...outcome, action: 'placeholder' }]);
    assert.ok(!out.includes('WDVP'));
    assert.ok(splitMessage(out).objects.length === 2, 'the placeholder takes the object\'s place');
  });
});
