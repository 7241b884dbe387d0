// Signature database facts for the X-Anti-Virus header: the release date and the number of
// signatures that clamd loaded.
//
// clamd's VERSION reply names the official daily database and its build time, but never a
// signature count, and it names no date at all when clamd loaded only unofficial databases (such
// as the bundled offline one). So the count always comes from the database files themselves, and
// so does the date when VERSION has none:
//   - official `.cvd`/`.cld` files start with a 512-byte text header
//     `ClamAV-VDB:<build time>:<version>:<signatures>:...`, whose fourth field is the count;
//   - text databases (`.ndb`, `.hdb`, `.ldb`, ...) hold one signature a line;
//   - without a date from VERSION, the date is the newest modification time of those files.

import fs from 'node:fs';
import path from 'node:path';

import type { ClamdVersion } from './clamd';

export interface DatabaseFacts {
  signatures: number;
  /** Newest modification time among the database files, or null when none was found. */
  newestFile: Date | null;
}

export interface BasesInfo {
  date: Date;
  signatures: number;
}

// Text database formats whose every non-comment line is one signature (see ClamAV's signatures.md).
const TEXT_DATABASES = new Set(['.ndb', '.ndu', '.hdb', '.hsb', '.hdu', '.hsu', '.mdb', '.msb', '.mdu', '.msu', '.ldb', '.ldu', '.cdb', '.idb']);
const CONTAINER_DATABASES = new Set(['.cvd', '.cld', '.cud']);
const CVD_HEADER_BYTES = 512;

/** Counts the signatures in the database files of `dirs`; a missing directory counts as empty. */
export function readDatabaseFacts(dirs: readonly string[]): DatabaseFacts {
  let signatures = 0;
  let newest = 0;

  for (const dir of dirs) {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const extension = path.extname(name).toLowerCase();
      if (!TEXT_DATABASES.has(extension) && !CONTAINER_DATABASES.has(extension)) continue;
      const file = path.join(dir, name);
      const stat = fs.statSync(file, { throwIfNoEntry: false });
      if (!stat?.isFile()) continue;

      newest = Math.max(newest, stat.mtimeMs);
      signatures += CONTAINER_DATABASES.has(extension) ? containerSignatures(file) : textSignatures(file);
    }
  }
  return { signatures, newestFile: newest > 0 ? new Date(newest) : null };
}

function containerSignatures(file: string): number {
  const header = Buffer.alloc(CVD_HEADER_BYTES);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, header, 0, CVD_HEADER_BYTES, 0);
  } finally {
    fs.closeSync(fd);
  }
  const fields = header.toString('latin1').split(':');
  const count = fields[0] === 'ClamAV-VDB' ? Number(fields[3]) : NaN;
  return Number.isSafeInteger(count) && count > 0 ? count : 0;
}

function textSignatures(file: string): number {
  let count = 0;
  for (const line of fs.readFileSync(file, 'latin1').split('\n')) {
    const text = line.trim();
    if (text !== '' && !text.startsWith('#')) count++;
  }
  return count;
}

/** Combines clamd's VERSION reply with the database files: the date from VERSION when it has one. */
export function basesFrom(version: ClamdVersion, facts: DatabaseFacts): BasesInfo | null {
  const date = version.dbDate ?? facts.newestFile;
  if (date === null) return null;
  return { date, signatures: facts.signatures };
}
