// Names inside archives, read with 7z: formats, nesting, bounds and unreadable input.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';

import { ArchiveListError, archiveType, listArchiveNames, looksLikeArchive, parseSlt } from '../../src/av/archive-list';
import { FIXTURES } from '../helpers/av-messages';
import { sevenZipOf, zipOf } from '../helpers/archives';
import { encryptedZip } from '../helpers/clamd';

const fixture = (name: string): Buffer => fs.readFileSync(path.join(FIXTURES, 'av', 'archives', name));

describe('listArchiveNames', () => {
  it('lists a zip', async () => {
    const listing = await listArchiveNames(zipOf({ 'run.exe': 'MZ', 'docs/readme.txt': 'hello' }));
    assert.deepEqual(listing.names.sort(), ['docs/readme.txt', 'run.exe']);
    assert.equal(listing.encryptedNames, false);
  });

  it('lists nested zips with their paths', async () => {
    const inner = zipOf({ 'run.exe': 'MZ' });
    const outer = zipOf({ 'inner.zip': inner, 'note.txt': 'x' });
    const listing = await listArchiveNames(zipOf({ 'outer.zip': outer }));
    assert.ok(listing.names.includes('outer.zip/inner.zip/run.exe'), listing.names.join(', '));
  });

  it('lists 7z and tar', async () => {
    assert.deepEqual((await listArchiveNames(sevenZipOf({ 'a.scr': 'x' }))).names, ['a.scr']);
    assert.deepEqual((await listArchiveNames(sevenZipOf({ 'b.bat': 'x' }, 'tar'))).names, ['b.bat']);
  });

  it('lists a tar inside gzip', async () => {
    const tgz = gzipSync(sevenZipOf({ 'c.com': 'x' }, 'tar'));
    const listing = await listArchiveNames(tgz);
    assert.ok(listing.names.some((name) => name.endsWith('/c.com')), listing.names.join(', '));
  });

  it('lists rar 5 names', async () => {
    const listing = await listArchiveNames(fixture('rar5-psw.rar'));
    assert.deepEqual(listing.names.sort(), ['stest1.txt', 'stest2.txt']);
  });

  it('reports encrypted rar 5 names', async () => {
    const listing = await listArchiveNames(fixture('rar5-hpsw.rar'));
    assert.equal(listing.encryptedNames, true);
    assert.deepEqual(listing.encrypted, [{ path: '', type: 'rar5', namesEncrypted: true, entries: [] }]);
  });

  it('reports encrypted rar 5 entries', async () => {
    const listing = await listArchiveNames(fixture('rar5-psw.rar'));
    assert.equal(listing.encryptedNames, false);
    assert.deepEqual(listing.encrypted, [{ path: '', type: 'rar5', namesEncrypted: false, entries: ['stest1.txt', 'stest2.txt'] }]);
  });

  it('reports encrypted 7z names and entries', async () => {
    assert.deepEqual((await listArchiveNames(fixture('t2.7z'))).encrypted, [{ path: '', type: '7z', namesEncrypted: true, entries: [] }]);
    assert.deepEqual((await listArchiveNames(fixture('t5.7z'))).encrypted, [{ path: '', type: '7z', namesEncrypted: false, entries: ['bar', 'foo'] }]);
  });

  it('reports encrypted zip entries', async () => {
    const listing = await listArchiveNames(encryptedZip('a.txt', Buffer.from('hi')));
    assert.deepEqual(listing.encrypted, [{ path: '', type: 'zip', namesEncrypted: false, entries: ['a.txt'] }]);
  });

  it('reports an encrypted nested archive', async () => {
    const listing = await listArchiveNames(zipOf({ 'readme.txt': 'x', 'parcel.rar': fixture('rar5-hpsw.rar') }));
    assert.deepEqual(listing.encrypted, [{ path: 'parcel.rar', type: 'rar5', namesEncrypted: true, entries: [] }]);
  });

  it('reports nothing for a plain archive', async () => {
    const listing = await listArchiveNames(zipOf({ 'a.txt': 'x' }));
    assert.deepEqual(listing.encrypted, []);
  });

  it('rejects data that is no archive', async () => {
    await assert.rejects(listArchiveNames(Buffer.from('Hello, world')), /not an archive/);
  });

  it('rejects nesting deeper than maxDepth', async () => {
    let archive = zipOf({ 'run.exe': 'MZ' });
    for (let level = 0; level < 3; level++) archive = zipOf({ [`level${level}.zip`]: archive });
    await assert.rejects(listArchiveNames(archive, { maxDepth: 2 }), ArchiveListError);
    const listing = await listArchiveNames(archive, { maxDepth: 4 });
    assert.ok(listing.names.some((name) => name.endsWith('run.exe')));
  });

  it('rejects more entries than maxEntries', async () => {
    const entries: Record<string, string> = {};
    for (let i = 0; i < 20; i++) entries[`f${i}.txt`] = 'x';
    await assert.rejects(listArchiveNames(zipOf(entries), { maxEntries: 10 }), /more than 10 entries/);
  });

  it('rejects extraction over maxExtractedBytes', async () => {
    const inner = zipOf({ 'big.bin': randomBytes(200_000) });
    await assert.rejects(listArchiveNames(zipOf({ 'inner.zip': inner }), { maxExtractedBytes: 1000 }), /bytes left to extract/);
  });

  it('rejects a corrupt zip', async () => {
    const corrupt = Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(64, 0xff)]);
    await assert.rejects(listArchiveNames(corrupt), ArchiveListError);
  });
});

describe('looksLikeArchive', () => {
  it('recognises archive magic', () => {
    assert.equal(looksLikeArchive(zipOf({ 'a.txt': 'x' })), true);
    assert.equal(looksLikeArchive(sevenZipOf({ 'a.txt': 'x' })), true);
    assert.equal(looksLikeArchive(sevenZipOf({ 'a.txt': 'x' }, 'tar')), true);
    assert.equal(looksLikeArchive(gzipSync('x')), true);
  });

  it('ignores text and short input', () => {
    assert.equal(looksLikeArchive(Buffer.from('Hello, world')), false);
    assert.equal(looksLikeArchive(Buffer.alloc(0)), false);
  });
});

describe('archiveType', () => {
  it('names formats by magic bytes', () => {
    assert.equal(archiveType(zipOf({ 'a.txt': 'x' })), 'zip');
    assert.equal(archiveType(sevenZipOf({ 'a.txt': 'x' })), '7z');
    assert.equal(archiveType(sevenZipOf({ 'a.txt': 'x' }, 'tar')), 'tar');
    assert.equal(archiveType(gzipSync('x')), 'gzip');
    assert.equal(archiveType(fixture('rar5-psw.rar')), 'rar5');
    assert.equal(archiveType(Buffer.from('Rar!\x1a\x07\x00rest', 'latin1')), 'rar4');
    assert.equal(archiveType(Buffer.from('Hello, world')), null);
  });
});

describe('parseSlt', () => {
  it('marks folders', () => {
    const entries = parseSlt('Path = dir\nFolder = +\n\nPath = dir/a.exe\nFolder = -\n');
    assert.deepEqual(entries, [
      { path: 'dir', folder: true, encrypted: false },
      { path: 'dir/a.exe', folder: false, encrypted: false },
    ]);
  });

  it('marks encrypted entries', () => {
    const entries = parseSlt('Path = a.txt\nFolder = -\nEncrypted = +\n\nPath = b.txt\nFolder = -\nEncrypted = -\n');
    assert.deepEqual(entries.map((entry) => entry.encrypted), [true, false]);
  });
});
