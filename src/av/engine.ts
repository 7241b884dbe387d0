// The built-in anti-virus engine: scans each MIME object with clamd and returns its status.
//
// Steps for one object:
//   1. When AVScanArchives is on, an object that is an archive (by its magic bytes) has its entry
//      names listed (archive-list.ts), with or without IncludeByName masks. An entry that an
//      Include mask selects and no Exclude mask protects makes the object av/filtered. A listing
//      that exceeds its bounds or fails makes it av/error, never a pass.
//   2. The object's decoded bytes go to clamd over INSTREAM, chunk by chunk, to the clamd whose
//      ScanArchive and ScanMail match the group's AVScanArchives and AVScanMailBases (see
//      local-clamd.ts). The reply maps to a status by status.ts.
//   3. An archive whose names or entries the listing found encrypted is av/protected unless clamd
//      found something worse (infected, suspicious). clamd 1.4.6 replies OK for encrypted rar 5
//      archives even with AlertEncrypted, so its reply alone would pass them as clean.
//   4. An object the MIME layer could not decode was sent as raw bytes. When clamd finds nothing
//      in them, the object is av/error, because its decoded content was never scanned.
// clamd cannot disinfect, so this engine never returns av/disinfected, whatever AVCure says.
// clamd unreachable or timing out throws EngineUnavailableError: the message gets a 451.
// At most `maxConcurrent` objects are scanned at once (AntiviralSessions), over all clamds.

import path from 'node:path';

import type { PolicyKey, PolicySettings } from '../config';
import { matchAnyMask } from '../match/mask';
import { objectChunks, objectHead, type MimeObject } from '../mime/objects';
import {
  EngineUnavailableError,
  type AntiVirusBases,
  type AntiVirusEngine,
  type MessageContext,
  type ObjectVerdict,
} from '../pipeline/engines';
import { ARCHIVE_MAGIC_BYTES, ArchiveListError, listArchiveNames, looksLikeArchive, type ArchiveLimits, type ArchiveListing } from './archive-list';
import { basesFrom, readDatabaseFacts } from './bases';
import { ClamdUnavailableError, type ClamdClient } from './clamd';
import type { ClamdScanOptions } from './clamd-service';
import { displaySignature, statusFromVerdict } from './status';

export const ENGINE_NAME = 'clamav';

export interface ClamdEngineOptions {
  /** Returns the client of the clamd that scans with these options. */
  clientFor(scan: ClamdScanOptions): ClamdClient;
  /** The client that answers VERSION for bases(). */
  versionClient: ClamdClient;
  /** Directories of the signature files that clamd loaded, for the signature count. */
  databaseDirs: readonly string[];
  /** Objects scanned at the same time, over all clients. */
  maxConcurrent: number;
  archiveLimits?: Partial<ArchiveLimits>;
  /** How long a bases() result is reused, in milliseconds. */
  basesCacheMs?: number;
}

const DEFAULT_BASES_CACHE_MS = 60_000;

export class ClamdEngine implements AntiVirusEngine {
  readonly name = ENGINE_NAME;
  readonly settingsKeys: readonly PolicyKey[] = ['AVScanArchives', 'AVScanMailBases', 'IncludeByName', 'ExcludeByName'];

  private engineVersion = 'unknown';
  private cachedBases: { value: AntiVirusBases; expires: number } | null = null;
  private readonly slots: Limiter;

  constructor(private readonly options: ClamdEngineOptions) {
    this.slots = new Limiter(options.maxConcurrent);
  }

  /** clamd's engine version from the last VERSION reply, `unknown` before the first one. */
  get version(): string {
    return this.engineVersion;
  }

  async bases(): Promise<AntiVirusBases> {
    const now = Date.now();
    if (this.cachedBases && this.cachedBases.expires > now) return this.cachedBases.value;

    const client = this.options.versionClient;
    const version = await unavailableAsEngineError(() => client.version());
    this.engineVersion = version.engine;

    const bases = basesFrom(version, readDatabaseFacts(this.options.databaseDirs));
    if (bases === null) {
      throw new Error(
        `clamd at ${client.socket} reported no database date and no database file was found in ${this.options.databaseDirs.join(', ')}: set the database directory the gateway reads`,
      );
    }
    this.cachedBases = { value: bases, expires: now + (this.options.basesCacheMs ?? DEFAULT_BASES_CACHE_MS) };
    return bases;
  }

  async scan(object: MimeObject, _message: MessageContext, settings: PolicySettings): Promise<ObjectVerdict> {
    await this.slots.acquire();
    try {
      return await this.scanObject(object, settings);
    } finally {
      this.slots.release();
    }
  }

  private async scanObject(object: MimeObject, settings: PolicySettings): Promise<ObjectVerdict> {
    const archive = await this.inspectArchive(object, settings);
    if (archive.verdict) return archive.verdict;

    const client = this.options.clientFor({ archives: settings.AVScanArchives, mail: settings.AVScanMailBases });
    const verdict = await unavailableAsEngineError(() => client.scan(objectChunks(object)));
    const status = statusFromVerdict(verdict);

    if (archive.encryption !== null && (status === 'av/clean' || status === 'av/error')) {
      return { status: 'av/protected', detail: archive.encryption };
    }
    if (verdict.result === 'found') return { status, detail: displaySignature(verdict.signature) };
    if (verdict.result === 'error') return { status, detail: verdict.message };
    if (object.error) return { status: 'av/error', detail: `not decoded (${object.error}); clamd found nothing in the raw bytes` };
    return { status };
  }

  // Lists an archive's entries: a verdict when an entry is filtered or the listing failed, else
  // the description of its encryption (null when nothing in it is encrypted).
  private async inspectArchive(object: MimeObject, settings: PolicySettings): Promise<{ verdict: ObjectVerdict | null; encryption: string | null }> {
    if (!settings.AVScanArchives || !looksLikeArchive(objectHead(object, ARCHIVE_MAGIC_BYTES))) return { verdict: null, encryption: null };

    let listing: ArchiveListing;
    try {
      listing = await listArchiveNames(objectChunks(object), this.options.archiveLimits);
    } catch (error) {
      if (!(error instanceof ArchiveListError)) throw error;
      return { verdict: { status: 'av/error', detail: `archive not listed: ${error.message}` }, encryption: null };
    }

    const entry = settings.IncludeByName.length === 0 ? undefined : listing.names.find((name) => archiveEntryFiltered(name, settings));
    if (entry !== undefined) return { verdict: { status: 'av/filtered', detail: `archive entry ${entry}` }, encryption: null };
    return { verdict: null, encryption: describeEncryption(listing) };
  }
}

/** Describes the first encrypted archive of a listing for the object's detail, or returns null when there is none. */
export function describeEncryption(listing: ArchiveListing): string | null {
  const archive = listing.encrypted[0];
  if (archive === undefined) return null;

  const where = archive.path === '' ? '' : ` ${archive.path}`;
  if (archive.namesEncrypted) return `encrypted ${archive.type} archive${where}: entry names are encrypted`;

  const [first, ...others] = archive.entries;
  const more = others.length === 0 ? '' : ` and ${others.length} more`;
  return `encrypted ${archive.type} archive${where}: entry ${first}${more} encrypted`;
}

/**
 * Tells whether an archive entry selects its archive for filtering: an IncludeByName mask matches
 * its path or its base name, and no ExcludeByName mask does. The exclude-only form of the lists
 * ("filter everything but *.doc") is not applied to entries, because every office document in zip
 * format (docx, xlsx, odt) would then be filtered by the XML files inside it.
 */
export function archiveEntryFiltered(entryPath: string, settings: Pick<PolicySettings, 'IncludeByName' | 'ExcludeByName'>): boolean {
  const candidates = [entryPath, path.posix.basename(entryPath.replace(/\\/g, '/'))];
  if (candidates.some((name) => matchAnyMask(settings.ExcludeByName, name))) return false;
  return candidates.some((name) => matchAnyMask(settings.IncludeByName, name));
}

async function unavailableAsEngineError<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    if (error instanceof ClamdUnavailableError) throw new EngineUnavailableError(ENGINE_NAME, error.message, { cause: error });
    throw error;
  }
}

// A counting semaphore with FIFO waiters.
class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly max: number) {
    if (!Number.isInteger(max) || max <= 0) throw new Error(`invalid scan concurrency ${max}: expected a positive integer`);
  }

  acquire(): Promise<void> {
    if (this.active < this.max) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}
