// Lists the file names inside archives, so that IncludeByName and ExcludeByName masks also catch
// `run.exe` inside `invoice.zip`.
//
// Reading is done by 7-Zip (`7z` from Debian's p7zip-full), which lists zip, 7z, rar (v4 and v5),
// tar, gzip, bzip2, xz, cab, arj, cpio and iso. An object is treated as an archive by its magic
// bytes, not by its name. Entries whose names look like archives are extracted to memory and
// listed in turn, so nested archives are read too.
//
// Every listing is bounded: nesting depth, the number of entries over all levels, the bytes
// extracted for nested archives, and the run time of each 7z call. Exceeding a bound, or an
// archive 7z cannot read, throws ArchiveListError: the caller must not treat such an object as
// having no names to match. Encryption is reported, not an error: an archive whose names are
// encrypted (rar -hp, 7z -mhe) cannot be listed, and one whose entries are encrypted lists its
// names with `Encrypted = +`. Both appear in `encrypted`, with the archive format.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface ArchiveLimits {
  /** Nesting levels read: 1 lists the archive itself, 2 also the archives inside it, and so on. */
  maxDepth: number;
  /** Entries listed over all levels together. */
  maxEntries: number;
  /** Bytes extracted to read nested archives, over all levels together. */
  maxExtractedBytes: number;
  /** Time limit of one 7z call, in milliseconds. */
  commandTimeoutMs: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxDepth: 5,
  maxEntries: 10_000,
  maxExtractedBytes: 64 * 1024 * 1024,
  commandTimeoutMs: 15_000,
};

export interface ArchiveListing {
  /** Entry paths as stored, nested entries as `outer.zip/inner.zip/run.exe` style paths. */
  names: string[];
  /** True when some archive keeps its names encrypted, so `names` is incomplete. */
  encryptedNames: boolean;
  /** The archives, outer or nested, that have encrypted names or entries, in listing order. */
  encrypted: EncryptedArchive[];
}

/** An archive whose names or entries are encrypted, so its contents cannot be scanned. */
export interface EncryptedArchive {
  /** Path of the archive inside the object: '' for the object itself, else like `outer.zip/inner.rar`. */
  path: string;
  /** Format read from the magic bytes, such as `zip`, `7z`, `rar4` or `rar5`. */
  type: ArchiveType;
  /** True when the entry names are encrypted, so none of them could be listed. */
  namesEncrypted: boolean;
  /** Entries whose data is encrypted, with their full paths as in `names`. */
  entries: string[];
}

/** The archive could not be listed completely: a bound was exceeded or 7z failed to read it. */
export class ArchiveListError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ArchiveListError';
  }
}

const SEVEN_ZIP = '7z';

// Magic bytes of the single-stream compressors: gzip, bzip2, xz.
const STREAM_COMPRESSORS: { offset: number; bytes: number[] }[] = [
  { offset: 0, bytes: [0x1f, 0x8b] },
  { offset: 0, bytes: [0x42, 0x5a, 0x68] },
  { offset: 0, bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
];

export type ArchiveType = 'gzip' | 'bzip2' | 'xz' | 'zip' | '7z' | 'rar4' | 'rar5' | 'rar' | 'cab' | 'arj' | 'cpio' | 'tar';

// Magic bytes of the formats listed above, at their offsets. The first match names the type, so
// the two rar versions (marker byte 0x00 or 0x01 after "Rar!\x1a\x07") come before plain rar.
const SIGNATURES: { offset: number; bytes: number[]; type: ArchiveType }[] = [
  { ...STREAM_COMPRESSORS[0], type: 'gzip' },
  { ...STREAM_COMPRESSORS[1], type: 'bzip2' },
  { ...STREAM_COMPRESSORS[2], type: 'xz' },
  { offset: 0, bytes: [0x50, 0x4b, 0x03, 0x04], type: 'zip' },
  { offset: 0, bytes: [0x50, 0x4b, 0x05, 0x06], type: 'zip' }, // empty zip
  { offset: 0, bytes: [0x50, 0x4b, 0x07, 0x08], type: 'zip' }, // spanned zip
  { offset: 0, bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], type: '7z' },
  { offset: 0, bytes: [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x00], type: 'rar4' },
  { offset: 0, bytes: [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x01, 0x00], type: 'rar5' },
  { offset: 0, bytes: [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07], type: 'rar' },
  { offset: 0, bytes: [0x4d, 0x53, 0x43, 0x46], type: 'cab' },
  { offset: 0, bytes: [0x60, 0xea], type: 'arj' },
  { offset: 0, bytes: [0x30, 0x37, 0x30, 0x37, 0x30], type: 'cpio' }, // ASCII headers
  { offset: 257, bytes: [0x75, 0x73, 0x74, 0x61, 0x72], type: 'tar' }, // "ustar"
];

/** Number of leading bytes that `looksLikeArchive` and `archiveType` read (the tar magic ends at 262). */
export const ARCHIVE_MAGIC_BYTES = Math.max(...SIGNATURES.map(({ offset, bytes }) => offset + bytes.length));

// Names of entries worth extracting to look inside. Other entries are listed but not opened.
const NESTED_ARCHIVE_NAME = /\.(zip|jar|7z|rar|tar|tgz|gz|tbz2?|bz2|txz|xz|cab|arj|cpio)$/i;

function matchesAny(data: Buffer, signatures: readonly { offset: number; bytes: number[] }[]): boolean {
  return signatures.some(({ offset, bytes }) => data.length >= offset + bytes.length && bytes.every((byte, i) => data[offset + i] === byte));
}

function isStreamCompressor(data: Buffer): boolean {
  return matchesAny(data, STREAM_COMPRESSORS);
}

export function looksLikeArchive(data: Buffer): boolean {
  return matchesAny(data, SIGNATURES);
}

/** Returns the archive format from the magic bytes, or null when `data` does not look like an archive. */
export function archiveType(data: Buffer): ArchiveType | null {
  return SIGNATURES.find((signature) => matchesAny(data, [signature]))?.type ?? null;
}

/**
 * Lists the names inside `data`, which must look like an archive (see looksLikeArchive). `data`
 * may come as chunks, which are written to the temporary file one at a time.
 */
export async function listArchiveNames(data: Buffer | Iterable<Buffer>, limits: Partial<ArchiveLimits> = {}): Promise<ArchiveListing> {
  if (Buffer.isBuffer(data) && archiveType(data) === null) throw notAnArchive();

  const bounds = { ...DEFAULT_ARCHIVE_LIMITS, ...limits };
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mailgw-archive-'));
  const state: WalkState = { bounds, dir, files: 0, entries: 0, extractedBytes: 0, listing: { names: [], encryptedNames: false, encrypted: [] } };
  try {
    const file = nextFile(state);
    const { head, type } = await writeArchive(file, Buffer.isBuffer(data) ? [data] : data);
    await walk(state, file, head, type, '', 1);
    return state.listing;
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

function notAnArchive(): ArchiveListError {
  return new ArchiveListError('the object is not an archive: its first bytes match no known archive format');
}

function nextFile(state: WalkState): string {
  return path.join(state.dir, `archive-${state.files++}`);
}

// Writes the chunks in order, waiting for each write to finish before reading the next chunk. The
// format is read from the first bytes as soon as they are written, so that an object that is no
// archive is not written whole.
async function writeArchive(file: string, chunks: Iterable<Buffer>): Promise<{ head: Buffer; type: ArchiveType }> {
  let head = Buffer.alloc(0);
  let type: ArchiveType | null = null;
  const handle = await fs.promises.open(file, 'wx');
  try {
    for (const chunk of chunks) {
      if (head.length < ARCHIVE_MAGIC_BYTES) {
        head = Buffer.concat([head, chunk.subarray(0, ARCHIVE_MAGIC_BYTES - head.length)]);
        if (head.length === ARCHIVE_MAGIC_BYTES) type = archiveType(head) ?? throwNotAnArchive();
      }
      for (let offset = 0; offset < chunk.length; ) {
        const { bytesWritten } = await handle.write(chunk, offset);
        offset += bytesWritten;
      }
    }
  } finally {
    await handle.close();
  }
  return { head, type: type ?? archiveType(head) ?? throwNotAnArchive() };
}

function throwNotAnArchive(): never {
  throw notAnArchive();
}

interface WalkState {
  bounds: ArchiveLimits;
  dir: string;
  files: number;
  entries: number;
  extractedBytes: number;
  listing: ArchiveListing;
}

interface Entry {
  path: string;
  folder: boolean;
  encrypted: boolean;
}

// Lists the archive in `file`, whose first bytes are `head`, and the archives nested in it.
async function walk(state: WalkState, file: string, head: Buffer, type: ArchiveType, prefix: string, depth: number): Promise<void> {
  const listed = await listEntries(file, prefix, state.bounds.commandTimeoutMs);
  // gzip, bzip2 and xz hold one stream, often without a stored name, so it is always opened.
  const compressor = isStreamCompressor(head);
  const encrypted: EncryptedArchive = { path: prefix.slice(0, -1), type, namesEncrypted: listed.encryptedNames, entries: [] };
  if (listed.encryptedNames) state.listing.encryptedNames = true;
  // Nested archives are added during the loop. This one goes before them, so the outer one comes first.
  const encryptedIndex = state.listing.encrypted.length;

  for (const entry of listed.entries) {
    state.entries++;
    if (state.entries > state.bounds.maxEntries) {
      throw new ArchiveListError(`archive has more than ${state.bounds.maxEntries} entries over all nesting levels`);
    }
    if (entry.folder) continue;
    state.listing.names.push(prefix + entry.path);
    // An encrypted entry cannot be extracted, so a nested archive inside it is not opened.
    if (entry.encrypted) {
      encrypted.entries.push(prefix + entry.path);
      continue;
    }
    if (!compressor && !NESTED_ARCHIVE_NAME.test(entry.path)) continue;

    if (depth >= state.bounds.maxDepth) {
      throw new ArchiveListError(`archive nesting is deeper than ${state.bounds.maxDepth} levels at ${prefix}${entry.path}`);
    }
    const remaining = state.bounds.maxExtractedBytes - state.extractedBytes;
    const inner = await extractEntry(file, entry.path, remaining, state.bounds.commandTimeoutMs, prefix);
    if (inner === null) {
      encrypted.entries.push(prefix + entry.path);
      continue;
    }
    state.extractedBytes += inner.length;
    const innerType = archiveType(inner);
    if (innerType !== null) {
      const innerFile = nextFile(state);
      await fs.promises.writeFile(innerFile, inner);
      await walk(state, innerFile, inner, innerType, `${prefix}${entry.path}/`, depth + 1);
    }
  }
  if (encrypted.namesEncrypted || encrypted.entries.length > 0) state.listing.encrypted.splice(encryptedIndex, 0, encrypted);
  await fs.promises.rm(file, { force: true });
}

async function listEntries(file: string, prefix: string, timeoutMs: number): Promise<{ entries: Entry[]; encryptedNames: boolean }> {
  // -p- gives a wrong password instead of prompting, so an encrypted archive fails fast.
  const result = await run7z(['l', '-slt', '-ba', '-sccUTF-8', '-p-', file], Infinity, timeoutMs);
  const output = result.stdout.toString('utf8');
  const where = prefix === '' ? 'the archive' : `archive ${prefix.slice(0, -1)}`;

  // 7z exits 1 for warnings (such as data after the end) with a usable listing, and 2 for errors.
  if (result.code === 2 && /encrypted archive|wrong password/i.test(result.stderr + output)) {
    return { entries: parseSlt(output), encryptedNames: true };
  }
  if (result.code !== 0 && result.code !== 1) {
    throw new ArchiveListError(`7z could not list ${where}: ${firstErrorLine(result.stderr + output) ?? `exit code ${result.code}`}`);
  }
  return { entries: parseSlt(output), encryptedNames: false };
}

// `7z l -slt -ba` prints one block of `Key = value` lines per entry, separated by empty lines.
export function parseSlt(output: string): Entry[] {
  const entries: Entry[] = [];
  for (const block of output.split(/\r?\n\r?\n/)) {
    const pathLine = /^Path = (.*)$/m.exec(block);
    if (!pathLine) continue;
    const folder = /^Folder = \+$/m.test(block) || /^Attributes = D/m.test(block);
    const encrypted = /^Encrypted = \+$/m.test(block);
    entries.push({ path: pathLine[1], folder, encrypted });
  }
  return entries;
}

/** Extracts one entry to memory. Returns null when the entry turns out to be encrypted. */
async function extractEntry(file: string, entryPath: string, maxBytes: number, timeoutMs: number, prefix: string): Promise<Buffer | null> {
  // -spd reads the entry path literally, so `*` or `?` in a stored name is not a wildcard.
  const result = await run7z(['x', '-so', '-spd', '-p-', file, entryPath], maxBytes, timeoutMs);
  if (result.overLimit) {
    throw new ArchiveListError(`nested archives hold more than the ${Math.max(0, maxBytes)} bytes left to extract at ${prefix}${entryPath}`);
  }
  if (result.code === 2 && /wrong password|encrypted/i.test(result.stderr)) {
    // The listing did not mark this entry as encrypted, but 7z needs a password to extract it.
    return null;
  }
  if (result.code !== 0 && result.code !== 1) {
    throw new ArchiveListError(`7z could not extract ${prefix}${entryPath}: ${firstErrorLine(result.stderr) ?? `exit code ${result.code}`}`);
  }
  return result.stdout;
}

function firstErrorLine(text: string): string | null {
  const lines = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '' && line !== 'ERRORS:');
  return lines.find((line) => /error|cannot|can not|unsupported|unexpected/i.test(line)) ?? lines[0] ?? null;
}

interface RunResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
  overLimit: boolean;
}

function run7z(args: string[], maxStdoutBytes: number, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(SEVEN_ZIP, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C.UTF-8' } });
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = '';
    let overLimit = false;
    let timedOut = false;

    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);

    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxStdoutBytes) {
        overLimit = true;
        child.kill('SIGKILL');
        return;
      }
      chunks.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4096);
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new ArchiveListError(`failed to run ${SEVEN_ZIP}: ${error.message}; install the Debian package p7zip-full`, { cause: error }));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(new ArchiveListError(`7z did not finish within ${timeoutMs} ms`));
        return;
      }
      resolve({ code, stdout: Buffer.concat(chunks), stderr, overLimit });
    });
  });
}
