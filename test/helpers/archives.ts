// Builds archives for anti-virus tests with the Debian tools zip and 7z, in a temporary directory.
//
//   zipOf({ 'run.exe': buf })                   a zip with one stored entry
//   zipOf({ 'inner.zip': zipOf({ ... }) })      nested zips
//   sevenZipOf({ 'run.exe': buf }, '7z')        a 7z (or tar, gzip via the type) archive

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function withFiles<T>(entries: Record<string, Buffer | string>, build: (dir: string, names: string[]) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailgw-archive-test-'));
  try {
    for (const [name, content] of Object.entries(entries)) {
      fs.mkdirSync(path.dirname(path.join(dir, 'in', name)), { recursive: true });
      fs.writeFileSync(path.join(dir, 'in', name), content);
    }
    return build(dir, Object.keys(entries));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function zipOf(entries: Record<string, Buffer | string>): Buffer {
  return withFiles(entries, (dir, names) => {
    execFileSync('zip', ['-q', '-X', path.join(dir, 'out.zip'), ...names], { cwd: path.join(dir, 'in') });
    return fs.readFileSync(path.join(dir, 'out.zip'));
  });
}

export function sevenZipOf(entries: Record<string, Buffer | string>, type: '7z' | 'tar' = '7z'): Buffer {
  return withFiles(entries, (dir, names) => {
    const out = path.join(dir, `out.${type}`);
    execFileSync('7z', ['a', '-bso0', '-bsp0', `-t${type}`, out, ...names], { cwd: path.join(dir, 'in') });
    return fs.readFileSync(out);
  });
}
