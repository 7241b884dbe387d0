// startClamd on a Unix socket with small limits: limit errors, start failures, and a stopped clamd.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { ClamdClient, ClamdUnavailableError } from '../../src/av/clamd';
import { startClamd } from '../../src/av/clamd-service';
import { statusFromVerdict } from '../../src/av/status';
import { eicar, freeLoopbackPort, startTestClamd, type TestClamd } from '../helpers/clamd';

const STREAM_MAX_LENGTH = 256 * 1024;
const MAX_FILE_SIZE = 64 * 1024;

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-clamd-'));
}

describe('clamd on a Unix socket', () => {
  let clamd: TestClamd;

  before(async () => {
    clamd = await startTestClamd({
      transport: 'unix',
      limits: { streamMaxLength: STREAM_MAX_LENGTH, maxFileSize: MAX_FILE_SIZE },
    });
  });

  after(async () => {
    await clamd?.stop();
  });

  it('listens on the socket in stateDir', async () => {
    assert.equal(clamd.address, path.join(clamd.stateDir, 'clamd.sock'));
    assert.ok(fs.statSync(clamd.address).isSocket());
    await clamd.client().ping();
  });

  it('writes config, pid and log under stateDir', () => {
    const conf = fs.readFileSync(clamd.running.confPath, 'utf8');
    assert.match(conf, new RegExp(`^LocalSocket ${clamd.address}$`, 'm'));
    assert.match(conf, /^Foreground yes$/m);
    assert.match(conf, /^AlertEncrypted yes$/m);
    assert.doesNotMatch(conf, /^TCPSocket/m);

    const pid = Number(fs.readFileSync(path.join(clamd.stateDir, 'clamd.pid'), 'utf8').trim());
    assert.equal(pid, clamd.running.pid);
    assert.match(fs.readFileSync(clamd.running.logPath, 'utf8'), /Loaded \d+ signatures/);
  });

  it('detects EICAR over the socket', async () => {
    const verdict = await clamd.client().scan(eicar());
    assert.equal(statusFromVerdict(verdict), 'av/infected');
  });

  it('object over StreamMaxLength is an error', async () => {
    const verdict = await clamd.client().scan(Buffer.alloc(4 * 1024 * 1024, 'x'));
    assert.deepEqual(verdict, { result: 'error', message: 'INSTREAM size limit exceeded' });
    assert.equal(statusFromVerdict(verdict), 'av/error');
  });

  // clamd replies and closes the connection while the client is still sending, so some of these
  // writes fail with EPIPE. The reply must still be read in every case.
  it('over-limit objects always get a verdict', async () => {
    const client = clamd.client({ maxConcurrent: 4 });
    const object = Buffer.alloc(4 * 1024 * 1024, 'x');
    const outcomes = await Promise.allSettled(Array.from({ length: 100 }, () => client.scan(object)));

    const failures = outcomes.filter((outcome) => outcome.status === 'rejected').map((outcome) => String(outcome.reason));
    assert.deepEqual(failures, []);
    for (const outcome of outcomes) {
      assert.deepEqual(outcome.status === 'fulfilled' && outcome.value, { result: 'error', message: 'INSTREAM size limit exceeded' });
    }
  });

  it('object over MaxFileSize is an error', async () => {
    const verdict = await clamd.client().scan(Buffer.alloc(MAX_FILE_SIZE + 1024, 'y'));
    assert.deepEqual(verdict, { result: 'found', signature: 'Heuristics.Limits.Exceeded.MaxFileSize' });
    assert.equal(statusFromVerdict(verdict), 'av/error');
  });

  it('a later scan still works', async () => {
    assert.deepEqual(await clamd.client().scan(Buffer.from('small')), { result: 'clean' });
  });
});

describe('startClamd failures', () => {
  it('empty database directory fails with the log tail', async () => {
    const stateDir = tempDir();
    const databaseDir = tempDir();
    try {
      const port = await freeLoopbackPort();
      await assert.rejects(
        startClamd({ stateDir, databaseDir, socket: { tcp: { host: '127.0.0.1', port } } }),
        (error: Error) => {
          assert.match(error.message, /clamd exited with exit code \d+ before replying to PING/);
          assert.match(error.message, /No supported database files found/);
          return true;
        },
      );
    } finally {
      fs.rmSync(stateDir, { recursive: true, force: true });
      fs.rmSync(databaseDir, { recursive: true, force: true });
    }
  });

  it('busy port fails with the log tail', async () => {
    const stateDir = tempDir();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    try {
      await assert.rejects(
        startClamd({ stateDir, socket: { tcp: { host: '127.0.0.1', port } } }),
        /clamd exited with .* before replying to PING at 127\.0\.0\.1:\d+\.[\s\S]*[Bb]ind/,
      );
    } finally {
      blocker.close();
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('missing database directory fails before spawning', async () => {
    const stateDir = tempDir();
    try {
      await assert.rejects(
        startClamd({ stateDir, databaseDir: path.join(stateDir, 'no-db'), socket: { unix: path.join(stateDir, 's') } }),
        /clamd database directory .*no-db not found/,
      );
    } finally {
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

describe('stopped clamd', () => {
  it('stop makes the client throw ClamdUnavailableError', async () => {
    const clamd = await startTestClamd();
    const client = clamd.client({ timeoutMs: 2000 });
    await client.ping();

    await clamd.stop();
    await clamd.stop();

    await assert.rejects(client.scan(eicar()), ClamdUnavailableError);
    await assert.rejects(client.ping(), /ECONNREFUSED/);
    assert.equal(fs.existsSync(clamd.stateDir), false);
  });

  it('stop removes the Unix socket', async () => {
    const stateDir = tempDir();
    try {
      const socketPath = path.join(stateDir, 'clamd.sock');
      const running = await startClamd({ stateDir, socket: { unix: socketPath } });
      await running.stop();

      assert.equal(fs.existsSync(socketPath), false);
      await assert.rejects(new ClamdClient({ socket: socketPath }).ping(), ClamdUnavailableError);
    } finally {
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
