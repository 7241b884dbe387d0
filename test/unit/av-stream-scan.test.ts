// Scanning objects that come as chunks: ClamdClient.scan over INSTREAM, the engine on a large
// base64 attachment that splitMessage keeps undecoded, and archive listing written from chunks.
// Runs against a real private clamd.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { ArchiveListError, listArchiveNames } from '../../src/av/archive-list';
import { ClamdClient } from '../../src/av/clamd';
import { ClamdEngine } from '../../src/av/engine';
import type { PolicySettings } from '../../src/config';
import { LAZY_DECODE_THRESHOLD, splitMessage, type MimeObject } from '../../src/mime/objects';
import { encodeBase64Lines } from '../../src/mime/transfer-encoding';
import type { MessageContext } from '../../src/pipeline/engines';
import { zipOf } from '../helpers/archives';
import { eicar, startTestClamdEngine, type TestClamd } from '../helpers/clamd';
import { seededBytes } from '../helpers/seeded-bytes';

const context: MessageContext = { transactionId: 'T1', mailFrom: 'a@b.example', recipients: ['c@d.example'], clientIp: '127.0.0.1', clientHost: null, helo: null };

function settings(overrides: Partial<Record<string, unknown>> = {}): PolicySettings {
  return { AVScanArchives: true, AVScanMailBases: true, IncludeByName: [], ExcludeByName: [], ...overrides } as unknown as PolicySettings;
}

function* chunksOf(data: Buffer, size: number): Generator<Buffer> {
  for (let offset = 0; offset < data.length; offset += size) yield data.subarray(offset, offset + size);
}

function messageWith(filename: string, content: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from('From: a@example.com\r\nTo: b@example.com\r\nSubject: large\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'),
    Buffer.from('--b\r\nContent-Type: text/plain\r\n\r\nSee the attachment.\r\n'),
    Buffer.from(`--b\r\nContent-Type: application/octet-stream; name="${filename}"\r\nContent-Transfer-Encoding: base64\r\n\r\n`),
    Buffer.from(encodeBase64Lines(content, '\r\n')),
    Buffer.from('--b--\r\n'),
  ]);
}

function attachmentOf(raw: Buffer): MimeObject {
  const object = splitMessage(raw).objects.find((candidate) => candidate.id === '2');
  assert.ok(object, 'attachment object 2 missing');
  const ownBuffer = Object.values(Object.getOwnPropertyDescriptors(object)).some((descriptor) => Buffer.isBuffer(descriptor.value));
  assert.equal(ownBuffer, false, 'the attachment object keeps a decoded Buffer');
  return object;
}

describe('chunked scan with clamd', () => {
  let clamd: TestClamd;
  let engine: ClamdEngine;

  before(async () => {
    ({ clamd, engine } = await startTestClamdEngine());
  });

  after(async () => {
    await clamd?.stop();
  });

  it('finds EICAR split across chunks', async () => {
    const data = Buffer.concat([seededBytes(100_000, 1), eicar(), seededBytes(100_000, 2)]);
    const verdict = await clamd.client().scan(chunksOf(data, 100_030));
    assert.deepEqual(verdict, { result: 'found', signature: 'MailGW.Test.EICAR.UNOFFICIAL' });
  });

  it('scans clean chunks as clean', async () => {
    assert.deepEqual(await clamd.client().scan(chunksOf(seededBytes(3_000_000, 3), 1024 * 1024)), { result: 'clean' });
    assert.deepEqual(await clamd.client().scan([]), { result: 'clean' });
  });

  it('rejects when reading chunks fails', async () => {
    function* failing(): Generator<Buffer> {
      yield seededBytes(200_000, 4);
      throw new Error('decoding failed on purpose');
    }
    const client = clamd.client({ maxConcurrent: 1 });
    await assert.rejects(client.scan(failing()), /decoding failed on purpose/);
    assert.equal(client.inFlight, 0);
    assert.deepEqual(await client.scan(Buffer.from('still usable')), { result: 'clean' });
  });

  it('finds EICAR in a large attachment', async () => {
    const content = Buffer.concat([seededBytes(1_500_000, 5), eicar(), seededBytes(600_000, 6)]);
    const raw = messageWith('data.bin', content);
    const object = attachmentOf(raw);
    assert.ok(object.size > LAZY_DECODE_THRESHOLD);
    assert.deepEqual(await engine.scan(object, context, settings()), { status: 'av/infected', detail: 'MailGW.Test.EICAR' });
  });

  it('filters a large zip by entry name', async () => {
    const zip = zipOf({ 'filler.bin': seededBytes(2_000_000, 7), 'docs/run.exe': 'MZ' });
    const object = attachmentOf(messageWith('bundle.zip', zip));
    const verdict = await engine.scan(object, context, settings({ IncludeByName: ['*.exe'] }));
    assert.deepEqual(verdict, { status: 'av/filtered', detail: 'archive entry docs/run.exe' });
  });
});

describe('chunked scan backpressure', () => {
  it('reads chunks only as the socket drains', async () => {
    const chunkBytes = 1024 * 1024;
    const chunkCount = 100;
    let pulled = 0;
    function* counted(): Generator<Buffer> {
      const chunk = Buffer.alloc(chunkBytes, 0x61);
      for (let i = 0; i < chunkCount; i++) {
        pulled++;
        yield chunk;
      }
    }

    // A server that reads nothing for a while, then replies, as a busy clamd would.
    let pulledWhileStalled = -1;
    const server = net.createServer((socket) => {
      socket.pause();
      setTimeout(() => {
        pulledWhileStalled = pulled;
        socket.end('stream: OK\0');
      }, 300);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      const client = new ClamdClient({ socket: `127.0.0.1:${port}`, timeoutMs: 10_000 });
      assert.deepEqual(await client.scan(counted()), { result: 'clean' });
    } finally {
      server.close();
    }
    assert.ok(pulledWhileStalled > 0, 'no chunk was read before the reply');
    assert.ok(pulledWhileStalled < chunkCount / 2, `${pulledWhileStalled} of ${chunkCount} chunks read while the server read nothing`);
  });
});

describe('listArchiveNames from chunks', () => {
  let tmp: string;
  let savedTmp: string | undefined;

  before(() => {
    savedTmp = process.env.TMPDIR;
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-list-test-'));
    process.env.TMPDIR = tmp;
  });

  after(() => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('lists names from chunks', async () => {
    const zip = zipOf({ 'a.txt': 'first', 'inner.zip': zipOf({ 'b.exe': 'MZ' }) });
    const listing = await listArchiveNames(chunksOf(zip, 7));
    assert.deepEqual(listing.names.sort(), ['a.txt', 'inner.zip', 'inner.zip/b.exe']);
    assert.deepEqual(fs.readdirSync(tmp), [], 'temporary files left behind');
  });

  it('rejects chunks that are no archive', async () => {
    await assert.rejects(listArchiveNames(chunksOf(Buffer.from('plain text, not an archive'), 5)), ArchiveListError);
    assert.deepEqual(fs.readdirSync(tmp), [], 'temporary files left behind');
  });

  it('removes the file when chunks fail', async () => {
    function* failing(): Generator<Buffer> {
      yield zipOf({ 'a.txt': 'first' });
      throw new Error('decoding failed on purpose');
    }
    await assert.rejects(listArchiveNames(failing()), /decoding failed on purpose/);
    assert.deepEqual(fs.readdirSync(tmp), [], 'temporary files left behind');
  });
});
