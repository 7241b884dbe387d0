// clamd client: PING, VERSION and INSTREAM scans over TCP or a Unix socket (ClamAV 1.4 protocol).
//
// Every request opens its own connection and uses the null-terminated "z" form of the command.
// At most `maxConcurrent` requests run at once and the rest wait in FIFO order.
// Each request has a timeout that starts when its connection opens and destroys the socket when it fires.
//
// Two kinds of failure are kept apart. A problem clamd reports about the scanned object (a stream
// over StreamMaxLength, a broken archive) is a `{ result: 'error' }` verdict. A problem with clamd
// itself (refused connection, timeout, closed connection, unexpected or server-side error reply) throws
// ClamdUnavailableError, which the gateway turns into a temporary failure and never into an object status.

import net from 'node:net';

export type ClamdVerdict =
  | { result: 'clean' }
  | { result: 'found'; signature: string }
  | { result: 'error'; message: string };

export interface ClamdVersion {
  /** Engine version, e.g. "1.4.6". */
  engine: string;
  /** Version number of the official daily database, or null when clamd loaded none (only our own DB). */
  dbVersion: number | null;
  /** Build time of that database, read as clamd's local time, or null like dbVersion. */
  dbDate: Date | null;
  /** The reply line as clamd sent it. */
  raw: string;
}

export interface ClamdClientOptions {
  /** "host:port", "[v6 address]:port" or an absolute Unix socket path. */
  socket: string;
  /** Time limit for one request from connect to reply, in milliseconds. */
  timeoutMs?: number;
  /** Maximum number of requests in flight at once. */
  maxConcurrent?: number;
}

/** Failure to get a verdict from clamd (unreachable, timed out, unexpected reply): retry later, never treat as a verdict. */
export class ClamdUnavailableError extends Error {
  readonly address: string;

  constructor(address: string, message: string, options?: { cause?: unknown }) {
    super(`clamd at ${address}: ${message}`, options);
    this.name = 'ClamdUnavailableError';
    this.address = address;
  }
}

type SocketAddress = { path: string } | { host: string; port: number };

// Above the MaxScanTime that clamd-service.ts sets by default (60 s), so clamd ends a slow scan with a
// reply about the object before the client gives up and reports clamd as unavailable.
// NOTE: the exact reply clamd 1.4 sends when MaxScanTime hits was not observed in a test.
const DEFAULT_TIMEOUT_MS = 90_000;
const DEFAULT_MAX_CONCURRENT = 8;

// clamd accepts INSTREAM chunks of any size up to StreamMaxLength. 64 KiB keeps each write small.
const CHUNK_SIZE = 64 * 1024;
const READ_BUFFER_SIZE = 4096;

// After a write fails because clamd closed the connection, its reply is normally already in the
// receive queue and is read within one event loop turn. This bounds the wait when none was sent.
const REPLY_AFTER_WRITE_FAILURE_MS = 2000;

// Error replies that describe clamd's own state (memory, temporary files, protocol), so scanning the
// same object again later may succeed. Any other "... ERROR" reply is about the object.
const SERVER_SIDE_ERRORS = [
  /can't allocate memory/i,
  /can't create (temporary|new) (file|directory)/i,
  /can't write to file/i,
  /error processing command/i,
  /unknown command/i,
  /command read timed out/i,
];

export function parseSocketAddress(socket: string): SocketAddress {
  if (socket.startsWith('/')) return { path: socket };

  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(socket);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port < 1 || port > 65535) {
    throw new Error(`invalid clamd socket "${socket}": expected host:port, [ipv6]:port or an absolute Unix socket path`);
  }
  return { host: match[1] ?? match[2], port };
}

// Parses "ClamAV 1.4.6/27000/Tue Dec  3 09:00:00 2026", or "ClamAV 1.4.6" when no official DB is loaded.
export function parseVersionReply(reply: string): ClamdVersion | null {
  const match = /^ClamAV (\S+?)(?:\/(\d+)\/(.+))?$/.exec(reply.trim());
  if (!match) return null;

  return {
    engine: match[1],
    dbVersion: match[2] === undefined ? null : Number(match[2]),
    dbDate: match[3] === undefined ? null : parseCtime(match[3]),
    raw: reply,
  };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// clamd formats the database time with ctime(3): "Tue Dec  3 09:00:00 2026" in its local time zone.
function parseCtime(text: string): Date | null {
  const match = /^\w{3} (\w{3}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/.exec(text.trim());
  if (!match) return null;

  const month = MONTHS.indexOf(match[1]);
  if (month < 0) return null;
  const [day, hours, minutes, seconds, year] = match.slice(2).map(Number);
  return new Date(year, month, day, hours, minutes, seconds);
}

// Maps one INSTREAM reply line to a verdict, or returns null for a reply that is not a scan result.
export function parseScanReply(reply: string): ClamdVerdict | null {
  const line = reply.trim();

  if (line === 'stream: OK') return { result: 'clean' };

  const found = /^stream: (.+) FOUND$/.exec(line);
  if (found) return { result: 'found', signature: found[1] };

  const error = /^(?:stream: )?(.+?)\.? ERROR$/.exec(line);
  if (error && !SERVER_SIDE_ERRORS.some((pattern) => pattern.test(error[1]))) {
    return { result: 'error', message: error[1] };
  }
  return null;
}

export class ClamdClient {
  readonly socket: string;
  readonly timeoutMs: number;
  readonly maxConcurrent: number;

  private readonly address: SocketAddress;
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(options: ClamdClientOptions) {
    this.socket = options.socket;
    this.address = parseSocketAddress(options.socket);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxConcurrent = options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT;

    if (!Number.isInteger(this.timeoutMs) || this.timeoutMs <= 0) {
      throw new Error(`invalid clamd timeoutMs ${this.timeoutMs}: expected a positive integer of milliseconds`);
    }
    if (!Number.isInteger(this.maxConcurrent) || this.maxConcurrent <= 0) {
      throw new Error(`invalid clamd maxConcurrent ${this.maxConcurrent}: expected a positive integer`);
    }
  }

  /** Number of requests that hold a connection right now. */
  get inFlight(): number {
    return this.active;
  }

  /** Number of requests waiting for a free slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Sends PING and resolves on PONG. Throws ClamdUnavailableError on any other outcome. */
  async ping(): Promise<void> {
    const reply = await this.request([Buffer.from('zPING\0')]);
    if (reply !== 'PONG') throw this.unexpectedReply('PING', reply);
  }

  async version(): Promise<ClamdVersion> {
    const reply = await this.request([Buffer.from('zVERSION\0')]);
    const version = parseVersionReply(reply);
    if (!version) throw this.unexpectedReply('VERSION', reply);
    return version;
  }

  /**
   * Scans one object with INSTREAM. The object may come as chunks, which are read one at a time
   * while the socket drains, so a large object is never queued whole. Throws ClamdUnavailableError
   * when clamd cannot give a verdict, and the chunks' own error when reading them fails.
   */
  async scan(object: Buffer | Iterable<Buffer>): Promise<ClamdVerdict> {
    const reply = await this.request(instreamFrames(Buffer.isBuffer(object) ? [object] : object));
    const verdict = parseScanReply(reply);
    if (!verdict) throw this.unexpectedReply('INSTREAM', reply);
    return verdict;
  }

  private unexpectedReply(command: string, reply: string): ClamdUnavailableError {
    return new ClamdUnavailableError(this.socket, `unexpected reply to ${command}: ${JSON.stringify(reply)}`);
  }

  private async request(frames: Iterable<Buffer>): Promise<string> {
    await this.acquire();
    try {
      return await this.exchange(frames);
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.active < this.maxConcurrent) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  // Hands the slot straight to the next waiter, so `active` never drops and rises again in between.
  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }

  // Sends the frames and resolves with the reply up to its terminating NUL byte.
  private exchange(frames: Iterable<Buffer>): Promise<string> {
    return new Promise((resolve, reject) => {
      const received: Buffer[] = [];
      let settled = false;
      let writeFailure: NodeJS.ErrnoException | null = null;
      let replyWait: NodeJS.Timeout | undefined;

      // Data arrives through `onread` rather than 'data' events, because after a failed write the
      // readable side of the stream is marked errored and would drop what clamd sent.
      const socket = net.createConnection({
        ...this.address,
        onread: {
          buffer: Buffer.alloc(READ_BUFFER_SIZE),
          callback: (bytes: number, buffer: Uint8Array) => {
            received.push(Buffer.from(buffer.subarray(0, bytes)));
            const reply = completeReply();
            if (reply !== null) finish(null, reply);
            return true;
          },
        },
      });
      const destroySocket = keepReadingAfterWriteFailure(socket, (error) => {
        writeFailure = error;
        replyWait = setTimeout(() => {
          finish(new ClamdUnavailableError(this.socket, `${connectionFailure(error)}, and no reply arrived within ${REPLY_AFTER_WRITE_FAILURE_MS} ms`, { cause: error }));
        }, REPLY_AFTER_WRITE_FAILURE_MS);
      });

      const finish = (error: Error | null, reply?: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(replyWait);
        destroySocket();
        if (error) reject(error);
        else resolve(reply ?? '');
      };

      // A complete reply wins over a write error. clamd replies "INSTREAM size limit exceeded"
      // and closes while the client may still be sending, which surfaces here as EPIPE or ECONNRESET.
      const completeReply = (): string | null => {
        const data = Buffer.concat(received);
        const end = data.indexOf(0);
        return end < 0 ? null : data.subarray(0, end).toString('utf8');
      };

      const timer = setTimeout(() => {
        finish(new ClamdUnavailableError(this.socket, `timed out: no reply within ${this.timeoutMs} ms`));
      }, this.timeoutMs);

      socket.on('error', (error: NodeJS.ErrnoException) => {
        const reply = completeReply();
        if (reply !== null) return finish(null, reply);
        finish(new ClamdUnavailableError(this.socket, connectionFailure(error), { cause: error }));
      });

      socket.on('close', () => {
        const reply = completeReply();
        if (reply !== null) return finish(null, reply);
        finish(new ClamdUnavailableError(this.socket, 'connection closed before a complete reply'));
      });

      socket.once('connect', () => {
        // socket.write reports its failures through 'error' and 'close', which settle the request.
        // A rejection here comes from reading the frames, such as an object that fails to decode.
        writeFrames(socket, frames, () => settled || writeFailure !== null).catch((error: unknown) => {
          finish(error instanceof Error ? error : new Error(`reading the object to scan failed: ${String(error)}`));
        });
      });
    });
  }
}

/**
 * Keeps a socket open for reading when a write fails because the peer closed the connection
 * (EPIPE, ECONNRESET), and calls `onWriteFailure` instead. Node 20 destroys a socket on any
 * write error, which closes the handle and drops a reply still waiting in the receive queue.
 * Returns the function that really destroys the socket, which the caller must call once done.
 */
function keepReadingAfterWriteFailure(socket: net.Socket, onWriteFailure: (error: NodeJS.ErrnoException) => void): () => void {
  const destroy = socket.destroy.bind(socket);
  let failed = false;
  socket.destroy = (error?: Error): net.Socket => {
    const failure = error as NodeJS.ErrnoException | undefined;
    const peerClosed = failure?.syscall === 'write' && (failure.code === 'EPIPE' || failure.code === 'ECONNRESET');
    if (!peerClosed) return destroy(error);

    // Writes queued before the first failure may fail too. Only the first one is reported.
    if (!failed) {
      failed = true;
      onWriteFailure(failure);
    }
    return socket;
  };
  return () => {
    destroy();
  };
}

function connectionFailure(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused (ECONNREFUSED): is clamd running and listening there?';
    case 'ENOENT':
      return 'socket file not found (ENOENT): is clamd running and listening there?';
    default:
      return `connection failed: ${error.message}`;
  }
}

// Writes the frames in order and waits for 'drain' when the socket buffer is full, so a large object
// is never copied into memory twice. Stops early once the request has settled.
async function writeFrames(socket: net.Socket, frames: Iterable<Buffer>, isSettled: () => boolean): Promise<void> {
  for (const frame of frames) {
    if (isSettled() || socket.destroyed) return;
    if (!socket.write(frame)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        socket.on('drain', done);
        socket.on('close', done);
      });
    }
  }
}

// zINSTREAM, then chunks each prefixed by its length as a 4-byte big-endian integer, then a zero length.
// The object's chunks are pulled one at a time, when writeFrames requests the next frame.
function* instreamFrames(object: Iterable<Buffer>): Generator<Buffer> {
  yield Buffer.from('zINSTREAM\0');

  for (const part of object) {
    for (let offset = 0; offset < part.length; offset += CHUNK_SIZE) {
      const chunk = part.subarray(offset, offset + CHUNK_SIZE);
      const length = Buffer.alloc(4);
      length.writeUInt32BE(chunk.length);
      yield length;
      yield chunk;
    }
  }

  yield Buffer.alloc(4);
}
