// ClamdClient and the status mapping against a real clamd with the bundled offline signatures, over TCP.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import type { ClamdVerdict } from '../../src/av/clamd';
import { displaySignature, statusFromVerdict } from '../../src/av/status';
import { eicar, encryptedZip, puaMarker, startTestClamd, type TestClamd } from '../helpers/clamd';

const TESTFILES_DIR = '/usr/share/clamav-testfiles';

function signatureOf(verdict: ClamdVerdict): string {
  assert.equal(verdict.result, 'found', `expected a detection, got ${JSON.stringify(verdict)}`);
  return (verdict as { signature: string }).signature;
}

function plainZip(entryName: string, content: Buffer): Buffer {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-zip-'));
  try {
    fs.writeFileSync(path.join(dir, entryName), content);
    execFileSync('zip', ['-q', 'out.zip', entryName], { cwd: dir });
    return fs.readFileSync(path.join(dir, 'out.zip'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// A TCP relay in front of clamd that records how many scans were in progress at once.
// A connection counts from accept until clamd's reply passes through.
interface CountingRelay {
  address: string;
  maxActive: number;
  connections: number;
  close(): Promise<void>;
}

function startCountingRelay(target: string): Promise<CountingRelay> {
  const [host, port] = target.split(':');
  const sockets = new Set<net.Socket>();
  let active = 0;

  const relay: CountingRelay = {
    address: '',
    maxActive: 0,
    connections: 0,
    close: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };

  const server = net.createServer((client) => {
    relay.connections++;
    active++;
    relay.maxActive = Math.max(relay.maxActive, active);
    let counted = true;
    const uncount = (): void => {
      if (counted) active--;
      counted = false;
    };

    const upstream = net.createConnection(Number(port), host);
    sockets.add(client);
    sockets.add(upstream);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => {
      uncount();
      sockets.delete(client);
      upstream.destroy();
    });
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.end();
    });
    upstream.on('data', (data: Buffer) => {
      uncount();
      client.write(data);
    });
    client.pipe(upstream);
  });

  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      relay.address = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
      resolve(relay);
    });
  });
}

describe('clamd over TCP', () => {
  let clamd: TestClamd;

  before(async () => {
    clamd = await startTestClamd();
  });

  after(async () => {
    await clamd?.stop();
  });

  it('ping gets PONG', async () => {
    await clamd.client().ping();
  });

  it('version parses reply without official DB', async () => {
    const version = await clamd.client().version();
    assert.match(version.engine, /^\d+\.\d+\.\d+/);
    assert.equal(version.dbVersion, null);
    assert.equal(version.dbDate, null);
  });

  it('EICAR is infected', async () => {
    const verdict = await clamd.client().scan(eicar());
    const signature = signatureOf(verdict);

    assert.equal(signature, 'MailGW.Test.EICAR.UNOFFICIAL');
    assert.equal(displaySignature(signature), 'MailGW.Test.EICAR');
    assert.equal(statusFromVerdict(verdict), 'av/infected');
  });

  it('EICAR inside a zip is infected', async () => {
    const verdict = await clamd.client().scan(plainZip('eicar.com', eicar()));
    assert.equal(signatureOf(verdict), 'MailGW.Test.EICAR.UNOFFICIAL');
  });

  it('clean text is clean', async () => {
    const verdict = await clamd.client().scan(Buffer.from('Hello,\r\nthe minutes of Monday are attached.\r\n'));
    assert.deepEqual(verdict, { result: 'clean' });
    assert.equal(statusFromVerdict(verdict), 'av/clean');
  });

  it('empty object is clean', async () => {
    assert.deepEqual(await clamd.client().scan(Buffer.alloc(0)), { result: 'clean' });
  });

  it('every clamav-testfiles file is infected', async () => {
    assert.ok(fs.existsSync(TESTFILES_DIR), `${TESTFILES_DIR} not found: install the Debian package clamav-testfiles`);
    const client = clamd.client();
    const names = fs.readdirSync(TESTFILES_DIR).sort();
    assert.ok(names.length > 0);

    for (const name of names) {
      const verdict = await client.scan(fs.readFileSync(path.join(TESTFILES_DIR, name)));
      assert.match(signatureOf(verdict), /^MailGW\.Test\.ClamAVTestFile(\.\w+)?\.UNOFFICIAL$/, name);
      assert.equal(statusFromVerdict(verdict), 'av/infected', name);
    }
  });

  it('encrypted zip is protected', async () => {
    const verdict = await clamd.client().scan(encryptedZip('report.txt', Buffer.from('quarterly numbers\n')));
    assert.equal(signatureOf(verdict), 'Heuristics.Encrypted.Zip');
    assert.equal(statusFromVerdict(verdict), 'av/protected');
  });

  it('encrypted zip hides EICAR as protected', async () => {
    const verdict = await clamd.client().scan(encryptedZip('eicar.com', eicar()));
    assert.equal(statusFromVerdict(verdict), 'av/protected');
  });

  it('PUA marker is suspicious', async () => {
    const verdict = await clamd.client().scan(puaMarker());
    assert.equal(signatureOf(verdict), 'PUA.MailGW.Test.Marker.UNOFFICIAL');
    assert.equal(statusFromVerdict(verdict), 'av/suspicious');
  });

  it('large clean object is clean', async () => {
    const object = Buffer.alloc(3 * 1024 * 1024, 'lorem ipsum dolor sit amet ');
    assert.deepEqual(await clamd.client().scan(object), { result: 'clean' });
  });

  it('client respects maxConcurrent', async () => {
    const relay = await startCountingRelay(clamd.address);
    try {
      const client = clamd.client({ socket: relay.address, maxConcurrent: 3 });
      // Distinct objects, so clamd's result cache does not make every scan instant.
      const objects: Buffer[] = Array.from({ length: 12 }, (_, i) => Buffer.alloc(512 * 1024, `object ${i} `));
      objects[5] = eicar();

      const verdicts = await Promise.all(objects.map((object) => client.scan(object)));

      assert.equal(relay.connections, 12);
      assert.ok(relay.maxActive <= 3, `at most 3 scans at once, saw ${relay.maxActive}`);
      assert.ok(relay.maxActive >= 2, `scans ran in parallel, saw ${relay.maxActive}`);
      assert.equal(verdicts.filter((verdict) => verdict.result === 'clean').length, 11);
      assert.equal(statusFromVerdict(verdicts[5]), 'av/infected');
    } finally {
      await relay.close();
    }
  });
});
