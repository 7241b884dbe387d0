import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { type MimeObject, parseMimeTree, splitMessage } from '../../src/mime';
import { walkTree } from '../../src/mime/tree';

const FIXTURES = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'mime');

function fixture(name: string): Buffer {
  return readFileSync(path.join(FIXTURES, name));
}

function byId(objects: MimeObject[], id: string): MimeObject {
  const found = objects.find((object) => object.id === id);
  assert.ok(found, `object ${id} missing; ids: ${objects.map((object) => object.id).join(' ')}`);
  return found;
}

/** Marks the bytes that only carry structure: header blocks of containers, delimiters, blank text. */
function structuralBytes(raw: Buffer): Uint8Array {
  const marks = new Uint8Array(raw.length);
  const mark = (start: number, end: number): void => {
    marks.fill(1, start, end);
  };
  const tree = parseMimeTree(raw);
  mark(0, tree.root.header.bodyStart);
  for (const entity of walkTree(tree.root)) {
    const content = entity.content;
    if (content.kind === 'message') mark(entity.start, entity.header.bodyStart);
    if (content.kind !== 'multipart') continue;
    mark(entity.start, entity.header.bodyStart);
    for (const segment of content.segments) {
      mark(segment.start, segment.entity.start);
      mark(segment.entity.end, segment.end);
    }
    if (content.closeDelimiter) mark(content.closeDelimiter.start, content.closeDelimiter.end);
  }
  return marks;
}

function uncoveredContent(raw: Buffer, objects: MimeObject[]): string {
  const marks = structuralBytes(raw);
  for (const object of objects) marks.fill(1, object.rawRange.start, object.rawRange.end);
  let uncovered = '';
  for (let i = 0; i < raw.length; i++) {
    if (!marks[i] && ![0x20, 0x09, 0x0d, 0x0a].includes(raw[i])) uncovered += String.fromCharCode(raw[i]);
  }
  return uncovered;
}

describe('splitMessage structure', () => {
  test('nested message/rfc822 parts get IMAP ids', () => {
    const { objects } = splitMessage(fixture('mimetorture.eml'));
    const ids = objects.map((object) => object.id);
    assert.deepEqual(ids.slice(0, 5), ['1', '2.1', '3.1', '3.2.1', '3.2.2']);
    assert.ok(ids.includes('10.1.1.1.1'));
    assert.equal(byId(objects, '1').nested, false);
    assert.equal(byId(objects, '2.1').kind, 'body');
    assert.equal(byId(objects, '2.1').nested, true);
    const gzip = byId(objects, '3.2.2');
    assert.equal(gzip.filename, 'foo.gz');
    assert.equal(gzip.contentType, 'application/x-gzip');
    assert.deepEqual(gzip.path, [3, 2, 2]);
    assert.deepEqual([...gzip.decoded.subarray(0, 2)], [0x1f, 0x8b]);
  });

  test('preamble and epilogue become objects', () => {
    const { objects } = splitMessage(fixture('multi-nested.msg'));
    assert.match(byId(objects, '0/preamble').decoded.toString(), /preamble of the outer/);
    assert.match(byId(objects, '3/epilogue').decoded.toString(), /epilogue for the inner/);
    assert.equal(byId(objects, '3.1').filename, '3d-vise.gif');
    assert.equal(byId(objects, '5.1').transferEncoding, 'quoted-printable');
    assert.equal(byId(objects, '5.1').nested, true);
  });

  test('digest parts default to message/rfc822', () => {
    const { objects } = splitMessage(fixture('multipart-digest.eml'));
    assert.equal(byId(objects, '1.1.1').decoded.toString(), 'm1 body\n');
    assert.equal(byId(objects, '1.2.1').decoded.toString(), 'm2 body\n');
  });

  test('raw ranges cover whole parts', () => {
    const raw = fixture('boundary-name-clash.msg');
    const { objects } = splitMessage(raw);
    const pdf = byId(objects, '2');
    const slice = raw.subarray(pdf.rawRange.start, pdf.rawRange.end).toString('latin1');
    assert.match(slice, /^Content-Type: application\/pdf/);
    assert.ok(!slice.includes('--'), 'the range must stop before the delimiter');
    assert.match(pdf.decoded.toString('latin1'), /^%PDF/);
    assert.equal(pdf.size, pdf.decoded.length);
    assert.equal(pdf.digest, createHash('sha256').update(pdf.decoded).digest('hex'));
    assert.equal(byId(objects, '1.1').contentType, 'text/plain');
  });
});

describe('splitMessage file names', () => {
  test('RFC 2231 continuations with charset', () => {
    const { objects } = splitMessage(fixture('japanese_attachment_long_name.eml'));
    assert.equal(byId(objects, '1').filename, 'かきくけこかきくけこかきくけこかきくけこかきくけこ.txt');
  });

  test('RFC 2231 single parameter', () => {
    const { objects } = splitMessage(fixture('attachment-filename-encoding-UTF8.msg'));
    assert.equal(byId(objects, '2').filename, 'attachment.äöü');
  });

  test('RFC 2047 words in a quoted parameter', () => {
    const { objects } = splitMessage(fixture('attachment_with_encoded_name.eml'));
    assert.equal(byId(objects, '2').filename, '01 Quien Te Dijat. Pitbull.mp3');
  });

  test('RFC 2047 words in an unquoted parameter', () => {
    const { objects } = splitMessage(fixture('fname.eml'));
    assert.equal(byId(objects, '1').filename, '[삼성생명]2020.08.14 데일리 경제뉴스.pdf');
  });

  test('duplicate file names stay separate objects', () => {
    const { objects } = splitMessage(fixture('dup-names.msg'));
    assert.deepEqual(objects.filter((object) => object.kind === 'part').map((object) => object.filename),
      ['one.gif', 'one.gif', 'two.nice.gif', 'two.nice.gif', 'two.nice.gif']);
  });
});

describe('splitMessage uuencode', () => {
  test('blocks inside a text body', () => {
    const { objects } = splitMessage(fixture('uu-zeegee.msg'));
    assert.deepEqual(objects.map((object) => object.id), ['1', '1/uu0', '1/uu1']);
    const logo = byId(objects, '1/uu1');
    assert.equal(logo.kind, 'uuencoded');
    assert.equal(logo.filename, 'zeegee.gif');
    assert.equal(logo.decoded.subarray(0, 6).toString('latin1'), 'GIF87a');
    assert.deepEqual(logo.path, [1]);
    assert.equal(logo.error, undefined);
  });

  test('block without end line keeps an error', () => {
    const raw = Buffer.from('Subject: x\r\n\r\nhello\r\nbegin 644 a.bin\r\n#86)C\r\n');
    const block = byId(splitMessage(raw).objects, '1/uu0');
    assert.equal(block.decoded.toString(), 'abc');
    assert.match(block.error ?? '', /no "end" line/);
  });
});

describe('splitMessage decoding', () => {
  test('mailing list footer after base64', () => {
    const { objects } = splitMessage(fixture('big5-base64.eml'));
    assert.equal(byId(objects, '1').error, undefined);
    assert.match(byId(objects, '1').decoded.toString('latin1'), /^<!-- saved from url/);
    assert.match(byId(objects, '1/trailer').decoded.toString(), /SLAT-talk mailing list/);
  });

  test('invalid base64 returns raw bytes with an error', () => {
    const raw = fixture('malformed/malformed-base64-attach.raw');
    const doc = byId(splitMessage(raw).objects, '2');
    assert.match(doc.error ?? '', /invalid base64: byte 0x2a/);
    assert.equal(doc.decoded.toString().trim(), 'PGh0*bWw+Cg==');
  });

  test('multipart without boundary is one object', () => {
    const { objects, defects } = splitMessage(fixture('malformed/multipart-wo-boundary.raw'));
    assert.equal(objects.length, 1);
    assert.match(objects[0].error ?? '', /no boundary parameter/);
    assert.match(objects[0].decoded.toString(), /multipart message without/);
    assert.equal(defects.length, 1);
  });

  test('unknown transfer encoding keeps raw bytes', () => {
    const raw = Buffer.from('Content-Type: application/octet-stream\nContent-Transfer-Encoding: x-custom\n\nAAAA\n');
    const [object] = splitMessage(raw).objects;
    assert.equal(object.decoded.toString(), 'AAAA\n');
    assert.match(object.error ?? '', /unknown Content-Transfer-Encoding "x-custom"/);
  });

  test('bare LF and CRLF give the same objects', () => {
    const crlf = fixture('mimetorture.eml').toString('latin1').replace(/\r?\n/g, '\r\n');
    const lf = crlf.replace(/\r\n/g, '\n');
    const fromCrlf = splitMessage(Buffer.from(crlf, 'latin1')).objects;
    const fromLf = splitMessage(Buffer.from(lf, 'latin1')).objects;
    assert.deepEqual(fromLf.map((object) => object.id), fromCrlf.map((object) => object.id));
    const gzipDigest = (objects: MimeObject[]): string => byId(objects, '3.2.2').digest;
    assert.equal(gzipDigest(fromLf), gzipDigest(fromCrlf));
  });

  test('NUL bytes and 8-bit header junk', () => {
    const raw = Buffer.concat([
      Buffer.from('Subject: \xff\xfe\x00bad\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n', 'latin1'),
      Buffer.from('Content-Type: application/octet-stream; name="\xe9t\xe9.bin"\r\n\r\n\x00\x01\x02\r\n--b--\r\n', 'latin1'),
    ]);
    const [object] = splitMessage(raw).objects;
    assert.equal(object.filename, 'été.bin');
    assert.deepEqual([...object.decoded], [0, 1, 2]);
  });
});

describe('splitMessage limits', () => {
  test('nesting deeper than maxDepth', () => {
    let message = 'Content-Type: text/plain\n\ninnermost text\n';
    for (let level = 0; level < 60; level++) {
      message = `Content-Type: multipart/mixed; boundary=b${level}\n\n--b${level}\n${message}--b${level}--\n`;
    }
    const { objects, defects } = splitMessage(Buffer.from(message));
    assert.equal(objects.length, 1);
    assert.match(objects[0].error ?? '', /nested deeper than 32 levels/);
    assert.match(objects[0].decoded.toString(), /innermost text/);
    assert.ok(defects.length >= 1);
  });

  test('parts beyond maxParts stay in one object', () => {
    const parts = Array.from({ length: 3000 }, (_, index) => `--b\nContent-Type: text/plain\n\npart ${index}\n`).join('');
    const raw = Buffer.from(`Content-Type: multipart/mixed; boundary=b\n\n${parts}--b--\n`);
    const { objects } = splitMessage(raw);
    assert.ok(objects.length <= 1001, `got ${objects.length} objects`);
    const rest = byId(objects, '0/unsplit');
    assert.match(rest.error ?? '', /more than 1000 MIME entities/);
    assert.match(rest.decoded.toString(), /part 2999\n$/);

    const small = splitMessage(raw, { maxParts: 10 }).objects;
    assert.equal(small.length, 10);
    assert.match(byId(small, '0/unsplit').decoded.toString(), /^--b\nContent-Type: text\/plain\n\npart 9\n/);
  });
});

describe('splitMessage malformed corpus', () => {
  for (const name of readdirSync(path.join(FIXTURES, 'malformed'))) {
    test(`${name} splits without losing content`, () => {
      const raw = fixture(`malformed/${name}`);
      const { objects } = splitMessage(raw);
      assert.ok(objects.length > 0);
      for (const object of objects) {
        assert.ok(Buffer.isBuffer(object.decoded));
        assert.equal(object.digest, createHash('sha256').update(object.decoded).digest('hex'));
        assert.ok(object.rawRange.start <= object.rawRange.end);
        assert.ok(object.rawRange.end <= raw.length);
      }
      assert.equal(uncoveredContent(raw, objects), '');
    });
  }

  test('truncated and garbled inputs never throw', () => {
    const raw = fixture('mimetorture.eml');
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let cut = 0; cut < raw.length; cut += 97) {
      const { objects } = splitMessage(raw.subarray(0, cut));
      assert.ok(objects.length > 0);
    }
    for (let round = 0; round < 50; round++) {
      const garbled = Buffer.from(raw);
      for (let i = 0; i < 40; i++) garbled[Math.floor(random() * garbled.length)] = Math.floor(random() * 256);
      assert.ok(splitMessage(garbled).objects.length > 0);
    }
  });
});
