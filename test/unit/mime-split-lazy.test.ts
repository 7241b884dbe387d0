// splitMessage on parts above LAZY_DECODE_THRESHOLD: the same ids, sizes, digests and bytes as the
// whole-body decoder gives, with no decoded Buffer kept on the object.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';

import { rebuildMessage } from '../../src/mime';
import { LAZY_DECODE_THRESHOLD, objectChunks, objectHead, splitMessage, type MimeObject } from '../../src/mime/objects';
import { DECODE_SLICE_BYTES } from '../../src/mime/stream-decode';
import { decodeTransferEncoding, encodeBase64Lines, encodeQuotedPrintable } from '../../src/mime/transfer-encoding';
import { uuencode } from '../../src/mime/uuencode';
import { seededBytes } from '../helpers/seeded-bytes';

function part(headers: string, body: string | Buffer): Buffer {
  return Buffer.concat([Buffer.from('--b\r\n' + headers + '\r\n\r\n', 'latin1'), Buffer.from(body as string, 'latin1'), Buffer.from('\r\n')]);
}

const attachment = seededBytes(5 * 1024 * 1024, 1);
const uuPayload = Buffer.from('uuencoded payload inside a large text part\n');
const textWithUu = Buffer.concat([
  Buffer.from(('filler line of text\r\n').repeat(80_000)),
  uuencode(uuPayload, 'inner.txt', '\r\n'),
  Buffer.from('closing words\r\n'),
]);
const qpText = Buffer.from(('caf\u00e9 line with = sign and trailing blanks   \r\n' + 'y'.repeat(90) + '\r\n').repeat(20_000), 'utf8');
const trailerData = seededBytes(1_500_000, 2);
const footer = '_______________________________________________\r\nList mailing list, https://lists.example/\r\n';
const invalidBody = encodeBase64Lines(seededBytes(1_200_000, 3), '\r\n').replace(/^(.{500})/s, '$1*');

const parts = [
  part('Content-Type: text/plain', 'Hello, the files are attached.'),
  part('Content-Type: application/octet-stream; name="data.bin"\r\nContent-Transfer-Encoding: base64', encodeBase64Lines(attachment, '\r\n')),
  part('Content-Type: text/plain\r\nContent-Transfer-Encoding: base64', encodeBase64Lines(textWithUu, '\r\n')),
  part('Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable', encodeQuotedPrintable(qpText, '\r\n')),
  part('Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64', encodeBase64Lines(trailerData, '\r\n') + '\r\n' + footer),
  part('Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64', invalidBody),
];
const raw = Buffer.concat([
  Buffer.from('From: a@example.com\r\nTo: b@example.com\r\nSubject: large\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'),
  ...parts,
  Buffer.from('--b--\r\n'),
]);

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

function byId(objects: MimeObject[], id: string): MimeObject {
  const found = objects.find((object) => object.id === id);
  assert.ok(found, `object ${id} missing; ids: ${objects.map((object) => object.id).join(' ')}`);
  return found;
}

// The decoded bytes as the whole-body decoder gives them for the body of part `index` (1-based).
function wholeDecode(index: number): Buffer {
  const text = parts[index - 1].toString('latin1');
  const body = parts[index - 1].subarray(text.indexOf('\r\n\r\n') + 4, parts[index - 1].length - 2);
  const encoding = /Content-Transfer-Encoding: (\S+)/i.exec(text)?.[1].toLowerCase() ?? '7bit';
  return decodeTransferEncoding(body, encoding, 64 * 1024 * 1024).decoded;
}

function ownBuffers(object: MimeObject): string[] {
  return Object.entries(Object.getOwnPropertyDescriptors(object))
    .filter(([, descriptor]) => Buffer.isBuffer(descriptor.value) && descriptor.value.length >= LAZY_DECODE_THRESHOLD)
    .map(([name]) => name);
}

describe('splitMessage lazy objects', () => {
  const { objects, defects } = splitMessage(raw);

  it('keeps ids and order', () => {
    assert.deepEqual(defects, []);
    assert.deepEqual(objects.map((object) => object.id), ['1', '2', '3', '3/uu0', '4', '5', '5/trailer', '6']);
  });

  it('matches the whole decoder', () => {
    for (const index of [2, 3, 4, 5]) {
      const object = byId(objects, String(index));
      const expected = wholeDecode(index);
      assert.equal(object.size, expected.length, `size of ${index}`);
      assert.equal(object.digest, sha256(expected), `digest of ${index}`);
      assert.ok(Buffer.concat([...objectChunks(object)]).equals(expected), `chunks of ${index}`);
      assert.ok(object.decoded.equals(expected), `decoded of ${index}`);
      assert.ok(objectHead(object, 262).equals(expected.subarray(0, 262)), `head of ${index}`);
      assert.equal(object.error, undefined, `error of ${index}`);
    }
    assert.ok(byId(objects, '2').decoded.equals(attachment));
    assert.ok(byId(objects, '3').decoded.equals(textWithUu));
    assert.ok(byId(objects, '4').decoded.equals(qpText));
    assert.ok(byId(objects, '5').decoded.equals(trailerData));
  });

  it('keeps no decoded Buffer', () => {
    for (const id of ['2', '3', '4', '5']) {
      const object = byId(objects, id);
      assert.deepEqual(ownBuffers(object), [], `object ${id} holds a large Buffer`);
      assert.equal(typeof Object.getOwnPropertyDescriptor(object, 'decoded')?.get, 'function', `decoded of ${id} is not a getter`);
      assert.ok(Object.keys(object).includes('decoded'), `decoded of ${id} is not enumerable`);
      assert.ok([...objectChunks(object)].length > 1, `object ${id} came in one chunk`);
    }
  });

  it('yields chunks of one slice', () => {
    const sizes = [...objectChunks(byId(objects, '2'))].map((chunk) => chunk.length);
    assert.ok(Math.max(...sizes) <= DECODE_SLICE_BYTES, `largest chunk ${Math.max(...sizes)} bytes`);
  });

  it('finds uuencode in a large text part', () => {
    const block = byId(objects, '3/uu0');
    assert.equal(block.filename, 'inner.txt');
    assert.ok(block.decoded.equals(uuPayload));
  });

  it('splits off the trailer', () => {
    assert.equal(byId(objects, '5/trailer').decoded.toString('latin1'), '\r\n' + footer);
  });

  it('keeps raw bytes of invalid base64', () => {
    const object = byId(objects, '6');
    assert.match(object.error ?? '', /^invalid base64: byte 0x2a at offset 500 of the body/);
    assert.equal(object.decoded.toString('latin1'), invalidBody);
    assert.equal(object.decoded.buffer, raw.buffer, 'raw bytes are not a view of the message');
  });

  it('gives small objects readers too', () => {
    const text = byId(objects, '1');
    assert.deepEqual([...objectChunks(text)], [text.decoded]);
    assert.equal(objectHead(text, 5).toString(), 'Hello');
    assert.equal(typeof text.chunks, 'function');
  });

  it('rebuilds with lazy objects', () => {
    const rebuilt = rebuildMessage(raw, new Map([['3/uu0', { kind: 'remove' } as const], ['2', { kind: 'remove' } as const]]));
    const after = splitMessage(rebuilt).objects;
    assert.ok(!after.some((object) => object.digest === byId(objects, '2').digest), 'attachment still present');
    assert.ok(!after.some((object) => object.kind === 'uuencoded'), 'uuencoded block still present');
    assert.ok(after.some((object) => object.digest === byId(objects, '4').digest), 'quoted-printable part lost');
  });
});
