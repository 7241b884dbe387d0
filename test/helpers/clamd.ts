// Starts a real private clamd for a test file: bundled offline signatures, a fresh temporary state
// directory, and a free loopback TCP port or a Unix socket inside that directory.
// Start it once per test file in before(), because loading takes a second or more, and stop it in after().
//
//   const clamd = await startTestClamd();          // or { transport: 'unix', limits: { ... } }
//   const verdict = await clamd.client().scan(buf);
//   await clamd.stop();

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { ClamdClient, type ClamdClientOptions } from '../../src/av/clamd';
import { bundledDatabaseDir, startClamd, type ClamdLimits, type ClamdSocket, type RunningClamd } from '../../src/av/clamd-service';
import { ClamdEngine } from '../../src/av/engine';

export interface TestClamd {
  /** Socket string for ClamdClient: "127.0.0.1:PORT" or a Unix socket path. */
  address: string;
  stateDir: string;
  running: RunningClamd;
  /** A new client for this clamd; options override the socket and defaults. */
  client(options?: Partial<ClamdClientOptions>): ClamdClient;
  /** Stops clamd and removes the state directory. Safe to call twice. */
  stop(): Promise<void>;
}

export interface TestClamdOptions {
  transport?: 'tcp' | 'unix';
  limits?: Partial<ClamdLimits>;
  databaseDir?: string;
}

// Another process may take the free port between the probe and clamd's bind, so a failed start is retried.
const START_ATTEMPTS = 3;

export async function startTestClamd(options: TestClamdOptions = {}): Promise<TestClamd> {
  let lastError: unknown;

  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-clamd-'));
    try {
      const socket: ClamdSocket = options.transport === 'unix'
        ? { unix: path.join(stateDir, 'clamd.sock') }
        : { tcp: { host: '127.0.0.1', port: await freeLoopbackPort() } };
      const running = await startClamd({ stateDir, socket, databaseDir: options.databaseDir, limits: options.limits });
      return testClamd(stateDir, running);
    } catch (error) {
      lastError = error;
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  }
  throw lastError;
}

function testClamd(stateDir: string, running: RunningClamd): TestClamd {
  return {
    address: running.address,
    stateDir,
    running,
    client: (options = {}) => new ClamdClient({ socket: running.address, timeoutMs: 10_000, maxConcurrent: 4, ...options }),
    stop: async () => {
      await running.stop();
      fs.rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** Returns a TCP port on 127.0.0.1 that was free a moment ago. */
/** Starts a test clamd and a ClamdEngine that scans with it, the bundled signatures and 2 slots. */
export async function startTestClamdEngine(): Promise<{ clamd: TestClamd; engine: ClamdEngine }> {
  const clamd = await startTestClamd();
  const client = clamd.client();
  const engine = new ClamdEngine({ clientFor: () => client, versionClient: client, databaseDirs: [bundledDatabaseDir()], maxConcurrent: 2 });
  return { clamd, engine };
}

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Returns the EICAR test string, assembled at run time so this source file is not itself detected. */
export function eicar(): Buffer {
  return Buffer.from('X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-' + 'ANTIVIRUS-TEST-FILE!$H+H*');
}

/** Returns text that the bundled database reports as PUA.MailGW.Test.Marker (status av/suspicious). */
export function puaMarker(): Buffer {
  return Buffer.from('This attachment carries the MAILGW-TEST-PUA-MARKER-8d1e string.\n');
}

/** Builds a password-protected zip (ZipCrypto) with Info-ZIP `zip -P`. clamd reports it as Heuristics.Encrypted.Zip. */
export function encryptedZip(entryName: string, content: Buffer, password = 'secret'): Buffer {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-zip-'));
  try {
    fs.writeFileSync(path.join(dir, entryName), content);
    try {
      execFileSync('zip', ['-q', '-P', password, 'out.zip', entryName], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (error) {
      throw new Error(`zip -P failed (${(error as Error).message}); install the Debian package zip`, { cause: error });
    }
    return fs.readFileSync(path.join(dir, 'out.zip'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
