// Runs a private clamd: renders clamav/clamd.conf.template into <stateDir>/clamd.conf, spawns
// /usr/sbin/clamd in the foreground, waits until it replies PONG and stops it with SIGTERM.
//
// Used by `mailgw start` for the embedded default setup and by the tests. This clamd reads only the
// given database directory (by default the bundled offline signatures in clamav/db) and never runs
// freshclam. Its pid file, log file and temporary files stay under stateDir.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { ClamdClient } from './clamd';

export type ClamdSocket = { tcp: { host: string; port: number } } | { unix: string };

/** Scan limits written to clamd.conf, with sizes in bytes. `man clamd.conf` describes each option. */
export interface ClamdLimits {
  /** StreamMaxLength: largest object accepted over INSTREAM. A larger one gets a size-limit error. */
  streamMaxLength: number;
  /** MaxScanSize: data scanned per object, counting the object and everything unpacked from it. */
  maxScanSize: number;
  /** MaxFileSize: largest single file, outer or unpacked, that clamd scans. */
  maxFileSize: number;
  /** MaxRecursion: depth of nested archives and containers. */
  maxRecursion: number;
  /** MaxFiles: files scanned inside one archive or container. */
  maxFiles: number;
  /** MaxScanTime: time limit for one object, in milliseconds. */
  maxScanTimeMs: number;
  /** MaxThreads: objects clamd scans in parallel. */
  maxThreads: number;
}

export const DEFAULT_CLAMD_LIMITS: ClamdLimits = {
  streamMaxLength: 50 * 1024 * 1024,
  maxScanSize: 200 * 1024 * 1024,
  maxFileSize: 50 * 1024 * 1024,
  maxRecursion: 16,
  maxFiles: 10_000,
  maxScanTimeMs: 60_000,
  maxThreads: 10,
};

/** What clamd opens inside an object. clamd reads these from clamd.conf only, never per request. */
export interface ClamdScanOptions {
  /** ScanArchive: unpack archives (zip, rar, 7z, tar, ...). */
  archives: boolean;
  /** ScanMail: parse mail files and mailboxes found in an object. */
  mail: boolean;
}

export const DEFAULT_SCAN_OPTIONS: ClamdScanOptions = { archives: true, mail: true };

export interface StartClamdOptions {
  /** Directory for clamd.conf, clamd.pid, clamd.log and tmp/, created if missing. */
  stateDir: string;
  socket: ClamdSocket;
  /** Directory of signature files, by default the bundled clamav/db. */
  databaseDir?: string;
  limits?: Partial<ClamdLimits>;
  scan?: ClamdScanOptions;
  /** Path of the clamd binary, by default /usr/sbin/clamd from Debian's clamav-daemon. */
  clamdPath?: string;
  /** Time allowed from spawn until PONG, in milliseconds. The official databases load far slower than the bundled one. */
  startTimeoutMs?: number;
  /** Time allowed after SIGTERM before SIGKILL, in milliseconds. */
  stopTimeoutMs?: number;
}

export interface RunningClamd {
  /** Socket string for ClamdClient: "host:port" or a Unix socket path. */
  address: string;
  pid: number;
  confPath: string;
  logPath: string;
  /** Resolves when the process has exited, for whatever reason, with "exit code N" or "signal NAME". */
  exited: Promise<string>;
  /** Returns clamd's stderr and the last `lines` lines of its log file, for error messages. */
  logTail(lines?: number): string;
  /** Sends SIGTERM and resolves once clamd has exited (SIGKILL after stopTimeoutMs). Safe to call twice. */
  stop(): Promise<void>;
}

const DEFAULT_CLAMD_PATH = '/usr/sbin/clamd';
const DEFAULT_START_TIMEOUT_MS = 60_000;
const DEFAULT_STOP_TIMEOUT_MS = 10_000;
const POLL_INTERVAL_MS = 100;
const LOG_TAIL_LINES = 20;

// sun_path is 108 bytes on Linux, including the terminating NUL.
const MAX_UNIX_SOCKET_PATH = 107;

/** Returns the repository's clamav/ folder (template and bundled database) from src/ or dist/src/. */
export function bundledClamavDir(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, 'clamav');
    if (fs.existsSync(path.join(candidate, 'clamd.conf.template'))) return candidate;

    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`clamav/clamd.conf.template not found in any parent of ${__dirname}`);
    dir = parent;
  }
}

export function bundledDatabaseDir(): string {
  return path.join(bundledClamavDir(), 'db');
}

export function clamdAddress(socket: ClamdSocket): string {
  if ('unix' in socket) return socket.unix;
  const { host, port } = socket.tcp;
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Renders the clamd.conf text. Throws on a value that clamd would misread or reject. */
export function renderClamdConf(options: {
  stateDir: string;
  socket: ClamdSocket;
  databaseDir: string;
  limits?: Partial<ClamdLimits>;
  scan?: ClamdScanOptions;
  template?: string;
}): string {
  const limits = { ...DEFAULT_CLAMD_LIMITS, ...options.limits };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new Error(`invalid clamd limit ${name}=${value}: expected a positive integer`);
    }
  }

  const values: Record<string, string> = {
    SOCKET: socketLines(options.socket),
    STATE_DIR: confPath('stateDir', options.stateDir),
    DATABASE_DIR: confPath('databaseDir', options.databaseDir),
    MAX_THREADS: String(limits.maxThreads),
    STREAM_MAX_LENGTH: String(limits.streamMaxLength),
    MAX_SCAN_SIZE: String(limits.maxScanSize),
    MAX_FILE_SIZE: String(limits.maxFileSize),
    MAX_RECURSION: String(limits.maxRecursion),
    MAX_FILES: String(limits.maxFiles),
    MAX_SCAN_TIME: String(limits.maxScanTimeMs),
    SCAN_ARCHIVE: yesNo((options.scan ?? DEFAULT_SCAN_OPTIONS).archives),
    SCAN_MAIL: yesNo((options.scan ?? DEFAULT_SCAN_OPTIONS).mail),
    // Official databases carry bytecode signatures that clamd can only use with Bytecode on.
    BYTECODE: yesNo(hasBytecodeDatabase(options.databaseDir)),
  };

  const template = options.template ?? fs.readFileSync(path.join(bundledClamavDir(), 'clamd.conf.template'), 'utf8');
  return template.replace(/@([A-Z_]+)@/g, (placeholder, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`unknown placeholder ${placeholder} in clamd.conf template`);
    return value;
  });
}

function yesNo(value: boolean): string {
  return value ? 'yes' : 'no';
}

function hasBytecodeDatabase(databaseDir: string): boolean {
  try {
    return fs.readdirSync(databaseDir).some((name) => /^bytecode\.c[vl]d$/.test(name));
  } catch {
    return false;
  }
}

function socketLines(socket: ClamdSocket): string {
  if ('unix' in socket) {
    const socketPath = confPath('socket.unix', socket.unix);
    if (Buffer.byteLength(socketPath) > MAX_UNIX_SOCKET_PATH) {
      throw new Error(`clamd socket path ${socketPath} is longer than ${MAX_UNIX_SOCKET_PATH} bytes: use a shorter state directory`);
    }
    return `LocalSocket ${socketPath}\nLocalSocketMode 660\nFixStaleSocket yes`;
  }

  const { host, port } = socket.tcp;
  if (!net.isIP(host)) throw new Error(`invalid clamd TCP host "${host}": expected an IP address such as 127.0.0.1`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`invalid clamd TCP port ${port}: expected 1-65535`);
  }
  return `TCPSocket ${port}\nTCPAddr ${host}`;
}

// clamd.conf values end at the first blank, so a path with white space would be cut short.
function confPath(name: string, value: string): string {
  const resolved = path.resolve(value);
  if (/\s/.test(resolved)) throw new Error(`clamd ${name} "${value}" contains white space, which clamd.conf cannot express`);
  return resolved;
}

/** Starts clamd and resolves once it replies PONG. Rejects with clamd's log tail if it does not. */
export async function startClamd(options: StartClamdOptions): Promise<RunningClamd> {
  const stateDir = path.resolve(options.stateDir);
  const databaseDir = path.resolve(options.databaseDir ?? bundledDatabaseDir());
  const confFile = path.join(stateDir, 'clamd.conf');
  const logPath = path.join(stateDir, 'clamd.log');
  const address = clamdAddress(options.socket);

  if (!fs.statSync(databaseDir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new Error(`clamd database directory ${databaseDir} not found: run clamav/generate-signatures.sh or pass databaseDir`);
  }
  fs.mkdirSync(path.join(stateDir, 'tmp'), { recursive: true });
  fs.writeFileSync(confFile, renderClamdConf({ stateDir, socket: options.socket, databaseDir, limits: options.limits, scan: options.scan }));

  // A process group of its own keeps a terminal's Ctrl-C away from clamd, so the launcher stops
  // it in order instead of the supervisor seeing a crash and restarting it.
  const child = spawn(options.clamdPath ?? DEFAULT_CLAMD_PATH, ['-c', confFile], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  const clamd = new ClamdProcess(child, logPath);
  await clamd.spawned();

  try {
    await waitForPong(clamd, address, options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
  } catch (error) {
    await clamd.stop(DEFAULT_STOP_TIMEOUT_MS);
    throw error;
  }

  const stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  return {
    address,
    pid: child.pid as number,
    confPath: confFile,
    logPath,
    exited: clamd.exited.then(() => clamd.exitStatus ?? 'unknown exit status'),
    logTail: (lines) => clamd.logTail(lines),
    stop: () => clamd.stop(stopTimeoutMs),
  };
}

async function waitForPong(clamd: ClamdProcess, address: string, startTimeoutMs: number): Promise<void> {
  const client = new ClamdClient({ socket: address, timeoutMs: 1000, maxConcurrent: 1 });
  const deadline = Date.now() + startTimeoutMs;

  for (;;) {
    if (clamd.exitStatus !== null) {
      throw new Error(`clamd exited with ${clamd.exitStatus} before replying to PING at ${address}. ${clamd.logTail()}`);
    }
    try {
      await client.ping();
      return;
    } catch {
      // clamd is still loading signatures or has not bound the socket yet.
    }
    if (Date.now() > deadline) {
      throw new Error(`clamd did not reply to PING at ${address} within ${startTimeoutMs} ms. ${clamd.logTail()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

// Owns the child process: remembers how it exited, keeps its stderr tail, and kills it if Node exits first.
class ClamdProcess {
  exitStatus: string | null = null;
  readonly exited: Promise<void>;

  private stderrTail = '';
  private readonly killOnExit = (): void => {
    this.child.kill('SIGTERM');
  };

  constructor(
    private readonly child: ChildProcess,
    private readonly logPath: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitStatus = signal ? `signal ${signal}` : `exit code ${code}`;
        process.off('exit', this.killOnExit);
        resolve();
      });
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-4096);
    });
    process.on('exit', this.killOnExit);
  }

  // Resolves once the process runs, or rejects with the spawn error (e.g. clamd not installed).
  spawned(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.child.once('spawn', resolve);
      this.child.on('error', (error) => reject(new Error(`failed to start clamd: ${error.message}. Install the Debian package clamav-daemon or pass clamdPath.`)));
    });
  }

  async stop(timeoutMs: number): Promise<void> {
    if (this.exitStatus !== null) return;

    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  logTail(lines = LOG_TAIL_LINES): string {
    const stderr = this.stderrTail.trim();
    let log: string;
    try {
      log = fs.readFileSync(this.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      log = `(no log at ${this.logPath})`;
    }
    return `clamd stderr: ${stderr || '(empty)'}\nlast lines of ${this.logPath}:\n${log}`;
  }
}
