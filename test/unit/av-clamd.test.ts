// ClamdClient against a fake clamd on loopback: framing, replies, limits and failures.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  ClamdClient,
  ClamdUnavailableError,
  parseScanReply,
  parseSocketAddress,
  parseVersionReply,
} from '../../src/av/clamd';

// How the fake replies to one INSTREAM object, chosen by the object's text.
//   "hang"       never replies           "close"      closes without a reply
//   "garbage"    replies "HELLO"         "oom"        replies a server-side error
//   "big..."     replies the size-limit error after the first chunk and closes while the client sends
//   contains "VIRUS" replies FOUND      anything else replies OK
interface FakeClamd {
  port: number;
  objects: Buffer[];
  commands: string[];
  maxActive: number;
  closedByClient: number;
  versionReply: string;
  replyDelayMs: number;
  close(): Promise<void>;
}

function startFakeClamd(): Promise<FakeClamd> {
  const sockets = new Set<net.Socket>();
  let active = 0;

  const fake: FakeClamd = {
    port: 0,
    objects: [],
    commands: [],
    maxActive: 0,
    closedByClient: 0,
    versionReply: 'ClamAV 1.4.6/27000/Tue Dec  3 09:00:00 2026',
    replyDelayMs: 0,
    close: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };

  const server = net.createServer((socket) => {
    sockets.add(socket);
    active++;
    fake.maxActive = Math.max(fake.maxActive, active);
    let buffered = Buffer.alloc(0);
    let command: string | null = null;
    const chunks: Buffer[] = [];
    let replied = false;

    // A connection counts as active until its reply is sent, because the client may open the next one
    // before this socket's close reaches the server.
    let counted = true;
    const uncount = (): void => {
      if (counted) active--;
      counted = false;
    };

    const reply = (text: string): void => {
      replied = true;
      setTimeout(() => {
        uncount();
        socket.end(`${text}\0`);
      }, fake.replyDelayMs);
    };

    socket.on('close', () => {
      uncount();
      sockets.delete(socket);
      if (!replied) fake.closedByClient++;
    });
    socket.on('error', () => {});

    socket.on('data', (data: Buffer) => {
      buffered = Buffer.concat([buffered, data]);

      if (command === null) {
        const end = buffered.indexOf(0);
        if (end < 0) return;
        command = buffered.subarray(0, end).toString();
        buffered = buffered.subarray(end + 1);
        fake.commands.push(command);
        if (command === 'zPING') return reply('PONG');
        if (command === 'zVERSION') return reply(fake.versionReply);
        if (command !== 'zINSTREAM') return reply('UNKNOWN COMMAND');
      }
      if (replied) return;

      while (buffered.length >= 4) {
        const length = buffered.readUInt32BE(0);
        if (buffered.length < 4 + length) return;
        const chunk = buffered.subarray(4, 4 + length);
        buffered = buffered.subarray(4 + length);

        if (chunk.subarray(0, 3).toString() === 'big') {
          // Like clamd: reply, then close with unread data pending, which makes the kernel send RST.
          replied = true;
          socket.write('INSTREAM size limit exceeded. ERROR\0', () => socket.destroy());
          return;
        }
        if (length > 0) {
          chunks.push(chunk);
          continue;
        }

        const object = Buffer.concat(chunks);
        fake.objects.push(object);
        answerObject(object.toString('latin1'));
        return;
      }
    });

    const answerObject = (text: string): void => {
      if (text === 'hang') return;
      if (text === 'close') {
        replied = true;
        socket.destroy();
        return;
      }
      if (text === 'garbage') return reply('HELLO');
      if (text === 'oom') return reply("stream: Can't allocate memory ERROR");
      if (text.includes('VIRUS')) return reply('stream: Fake.Virus.UNOFFICIAL FOUND');
      reply('stream: OK');
    };
  });

  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      fake.port = (server.address() as net.AddressInfo).port;
      resolve(fake);
    });
  });
}

function unusedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('ClamdClient', () => {
  let fake: FakeClamd;
  let client: ClamdClient;

  before(async () => {
    fake = await startFakeClamd();
    client = new ClamdClient({ socket: `127.0.0.1:${fake.port}`, timeoutMs: 2000, maxConcurrent: 4 });
  });

  after(async () => {
    await fake.close();
  });

  it('ping sends zPING', async () => {
    await client.ping();
    assert.equal(fake.commands.at(-1), 'zPING');
  });

  it('scan returns found for a hit', async () => {
    const verdict = await client.scan(Buffer.from('a VIRUS inside'));
    assert.deepEqual(verdict, { result: 'found', signature: 'Fake.Virus.UNOFFICIAL' });
  });

  it('scan returns clean for a miss', async () => {
    assert.deepEqual(await client.scan(Buffer.from('plain text')), { result: 'clean' });
  });

  it('scan frames large objects in chunks', async () => {
    const object = Buffer.alloc(300 * 1024 + 7);
    for (let i = 0; i < object.length; i++) object[i] = (i * 31) % 251;

    assert.deepEqual(await client.scan(object), { result: 'clean' });
    assert.equal(fake.commands.at(-1), 'zINSTREAM');
    assert.ok(fake.objects.at(-1)?.equals(object), 'fake clamd received the object unchanged');
  });

  it('scan sends an empty object', async () => {
    assert.deepEqual(await client.scan(Buffer.alloc(0)), { result: 'clean' });
    assert.equal(fake.objects.at(-1)?.length, 0);
  });

  it('scan returns an error reply as error', async () => {
    const big = Buffer.concat([Buffer.from('big'), Buffer.alloc(8 * 1024 * 1024)]);
    const verdict = await client.scan(big);
    assert.deepEqual(verdict, { result: 'error', message: 'INSTREAM size limit exceeded' });
  });

  it('scan throws on a hang after timeoutMs', async () => {
    const quick = new ClamdClient({ socket: `127.0.0.1:${fake.port}`, timeoutMs: 200, maxConcurrent: 1 });
    const closedBefore = fake.closedByClient;
    const started = Date.now();

    await assert.rejects(quick.scan(Buffer.from('hang')), (error: Error) => {
      assert.ok(error instanceof ClamdUnavailableError);
      assert.match(error.message, /no reply within 200 ms/);
      return true;
    });
    assert.ok(Date.now() - started < 1500, 'timed out promptly');

    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(fake.closedByClient, closedBefore + 1, 'client destroyed the socket');
    assert.equal(quick.inFlight, 0);
  });

  it('scan throws when clamd closes without reply', async () => {
    await assert.rejects(client.scan(Buffer.from('close')), ClamdUnavailableError);
  });

  it('scan throws on an unexpected reply', async () => {
    await assert.rejects(client.scan(Buffer.from('garbage')), /unexpected reply to INSTREAM: "HELLO"/);
  });

  it('scan throws on a server-side error reply', async () => {
    await assert.rejects(client.scan(Buffer.from('oom')), ClamdUnavailableError);
  });

  it('version parses engine and database', async () => {
    const version = await client.version();
    assert.equal(version.engine, '1.4.6');
    assert.equal(version.dbVersion, 27000);
    assert.deepEqual(version.dbDate, new Date(2026, 11, 3, 9, 0, 0));
  });

  it('version accepts a reply without database', async () => {
    fake.versionReply = 'ClamAV 1.4.6';
    try {
      const version = await client.version();
      assert.equal(version.engine, '1.4.6');
      assert.equal(version.dbVersion, null);
      assert.equal(version.dbDate, null);
    } finally {
      fake.versionReply = 'ClamAV 1.4.6/27000/Tue Dec  3 09:00:00 2026';
    }
  });

  it('version throws on an unexpected reply', async () => {
    fake.versionReply = 'Hello';
    try {
      await assert.rejects(client.version(), ClamdUnavailableError);
    } finally {
      fake.versionReply = 'ClamAV 1.4.6/27000/Tue Dec  3 09:00:00 2026';
    }
  });

  it('limits requests to maxConcurrent', async () => {
    const limited = new ClamdClient({ socket: `127.0.0.1:${fake.port}`, timeoutMs: 5000, maxConcurrent: 2 });
    fake.maxActive = 0;
    fake.replyDelayMs = 50;
    try {
      const scans = Array.from({ length: 6 }, (_, i) => limited.scan(Buffer.from(`object ${i}`)));
      assert.equal(limited.inFlight, 2);
      assert.equal(limited.queued, 4);

      const verdicts = await Promise.all(scans);
      assert.ok(verdicts.every((verdict) => verdict.result === 'clean'));
      assert.equal(fake.maxActive, 2);
      assert.equal(limited.inFlight, 0);
    } finally {
      fake.replyDelayMs = 0;
    }
  });

  it('serves queued requests in FIFO order', async () => {
    const serial = new ClamdClient({ socket: `127.0.0.1:${fake.port}`, timeoutMs: 5000, maxConcurrent: 1 });
    const first = fake.objects.length;
    const names = ['one', 'two', 'three', 'four', 'five'];

    await Promise.all(names.map((name) => serial.scan(Buffer.from(name))));

    assert.deepEqual(fake.objects.slice(first).map((object) => object.toString()), names);
  });

  it('releases the slot after a failure', async () => {
    const serial = new ClamdClient({ socket: `127.0.0.1:${fake.port}`, timeoutMs: 200, maxConcurrent: 1 });
    const results = await Promise.allSettled([serial.scan(Buffer.from('hang')), serial.scan(Buffer.from('ok'))]);

    assert.equal(results[0].status, 'rejected');
    assert.deepEqual(results[1], { status: 'fulfilled', value: { result: 'clean' } });
  });
});

describe('ClamdClient without clamd', () => {
  it('scan throws when TCP connection is refused', async () => {
    const port = await unusedPort();
    const client = new ClamdClient({ socket: `127.0.0.1:${port}`, timeoutMs: 2000 });

    await assert.rejects(client.scan(Buffer.from('x')), (error: Error) => {
      assert.ok(error instanceof ClamdUnavailableError);
      assert.match(error.message, /ECONNREFUSED/);
      assert.equal(error.address, `127.0.0.1:${port}`);
      return true;
    });
  });

  it('ping throws when Unix socket is missing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-av-'));
    try {
      const client = new ClamdClient({ socket: path.join(dir, 'clamd.sock'), timeoutMs: 2000 });
      await assert.rejects(client.ping(), /ENOENT/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('clamd protocol parsing', () => {
  it('parseSocketAddress accepts host, IPv6 and path', () => {
    assert.deepEqual(parseSocketAddress('127.0.0.1:3310'), { host: '127.0.0.1', port: 3310 });
    assert.deepEqual(parseSocketAddress('localhost:3310'), { host: 'localhost', port: 3310 });
    assert.deepEqual(parseSocketAddress('[::1]:3310'), { host: '::1', port: 3310 });
    assert.deepEqual(parseSocketAddress('/run/clamav/clamd.ctl'), { path: '/run/clamav/clamd.ctl' });
  });

  it('parseSocketAddress rejects bad values', () => {
    for (const bad of ['127.0.0.1', '127.0.0.1:0', '127.0.0.1:70000', 'relative/clamd.sock', '::1:3310', '']) {
      assert.throws(() => parseSocketAddress(bad), /invalid clamd socket/, bad);
    }
  });

  it('parseScanReply reads the reply forms', () => {
    assert.deepEqual(parseScanReply('stream: OK'), { result: 'clean' });
    assert.deepEqual(parseScanReply('stream: Win.Test.EICAR_HDB-1 FOUND'), { result: 'found', signature: 'Win.Test.EICAR_HDB-1' });
    assert.deepEqual(parseScanReply('INSTREAM size limit exceeded. ERROR'), { result: 'error', message: 'INSTREAM size limit exceeded' });
    assert.deepEqual(parseScanReply('stream: Can\'t parse data ERROR'), { result: 'error', message: 'Can\'t parse data' });
    assert.equal(parseScanReply('stream: Can\'t create temporary file ERROR'), null);
    assert.equal(parseScanReply('UNKNOWN COMMAND'), null);
    assert.equal(parseScanReply('PONG'), null);
  });

  it('parseVersionReply handles a bad date', () => {
    const version = parseVersionReply('ClamAV 1.4.6/27000/not a date');
    assert.equal(version?.dbVersion, 27000);
    assert.equal(version?.dbDate, null);
  });

  it('constructor rejects bad limits', () => {
    assert.throws(() => new ClamdClient({ socket: '127.0.0.1:1', timeoutMs: 0 }), /timeoutMs/);
    assert.throws(() => new ClamdClient({ socket: '127.0.0.1:1', maxConcurrent: 1.5 }), /maxConcurrent/);
  });
});
