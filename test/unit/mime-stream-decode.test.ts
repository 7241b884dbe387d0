// Chunked transfer decoding against the whole-body decoder: the same bytes, error and trailer
// offset for every body, with slice sizes small enough to put each slice edge inside the hard cases.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import * as libqp from 'libqp';

import { planChunkedDecode } from '../../src/mime/stream-decode';
import { decodeTransferEncoding, encodeQuotedPrintable } from '../../src/mime/transfer-encoding';

const MAX_DECODED = 64 * 1024 * 1024;
const SLICE_SIZES = [4, 5, 7, 13, 64, 1000, 4096];

// A small deterministic generator (mulberry32), so a failing case can be rerun.
function randomBytes(length: number, seed: number): Buffer {
  let state = seed >>> 0;
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return out;
}

function lines(text: string, width: number, lineBreak: string): string {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += width) out.push(text.slice(i, i + width));
  return out.join(lineBreak) + lineBreak;
}

function assertSameDecode(body: Buffer, encoding: string, label: string): void {
  const whole = decodeTransferEncoding(body, encoding, MAX_DECODED);
  for (const sliceBytes of [...SLICE_SIZES, Math.max(4, body.length + 1)]) {
    const plan = planChunkedDecode(body, encoding, MAX_DECODED, sliceBytes);
    const chunked = Buffer.concat([...plan.chunks()]);
    assert.ok(chunked.equals(whole.decoded), `${label}: decoded bytes differ with slices of ${sliceBytes}`);
    assert.equal(plan.error, whole.error, `${label}: error differs with slices of ${sliceBytes}`);
    assert.equal(plan.trailerOffset, whole.trailerOffset, `${label}: trailer offset differs with slices of ${sliceBytes}`);
    if (plan.view) assert.equal(plan.view.buffer, body.buffer, `${label}: view is not a view of the body`);
  }
}

describe('planChunkedDecode base64', () => {
  it('decodes 76-character CRLF lines', () => {
    for (const [length, seed] of [[0, 1], [1, 2], [2, 3], [3, 4], [57, 5], [1000, 6], [20_000, 7]]) {
      const body = Buffer.from(lines(randomBytes(length, seed).toString('base64'), 76, '\r\n'));
      assertSameDecode(body, 'base64', `CRLF lines, ${length} bytes`);
    }
  });

  it('decodes LF lines and odd line lengths', () => {
    const data = randomBytes(5000, 11).toString('base64');
    for (const width of [1, 3, 5, 33, 75, 77, 1023]) {
      assertSameDecode(Buffer.from(lines(data, width, '\n')), 'base64', `LF lines of ${width}`);
      assertSameDecode(Buffer.from(lines(data, width, '\r\n')), 'base64', `CRLF lines of ${width}`);
    }
  });

  it('decodes padded chunks one after another', () => {
    const pieces = [1, 2, 4, 5, 7, 100].map((length, i) => randomBytes(length, 20 + i).toString('base64'));
    assertSameDecode(Buffer.from(pieces.join('')), 'base64', 'joined without breaks');
    assertSameDecode(Buffer.from(lines(pieces.join(''), 76, '\r\n')), 'base64', 'joined in lines');
    assertSameDecode(Buffer.from(pieces.join('\r\n') + '\r\n'), 'base64', 'one chunk per line');
    assertSameDecode(Buffer.from('QQ====QUI===QUJD=QQ==\r\n'), 'base64', 'long padding runs');
    assertSameDecode(Buffer.from('==QUJD\r\n'), 'base64', 'padding first');
    assertSameDecode(Buffer.from('QQ' + '='.repeat(3000) + 'QUJD'), 'base64', 'padding longer than a slice');
  });

  it('ignores blanks and tabs between characters', () => {
    const data = randomBytes(300, 31).toString('base64');
    let spaced = '';
    for (let i = 0; i < data.length; i++) {
      spaced += data[i];
      if (i % 3 === 0) spaced += ' ';
      else if (i % 7 === 0) spaced += '\t';
    }
    assertSameDecode(Buffer.from(spaced), 'base64', 'spaces and tabs');
    assertSameDecode(Buffer.from(`  \t\r\n${lines(data, 60, ' \r\n')}\t \r\n\r\n`), 'base64', 'blank lines around');
  });

  it('drops a final lone character', () => {
    for (const tail of ['Q', 'Q=', 'Q\r\n', 'QUJDQ']) {
      const body = Buffer.from(lines(randomBytes(120, 41).toString('base64'), 76, '\r\n') + tail);
      assertSameDecode(body, 'base64', `tail ${JSON.stringify(tail)}`);
    }
  });

  it('stops at a trailer after the data', () => {
    const data = lines(randomBytes(3000, 51).toString('base64'), 76, '\r\n');
    const footer = '_______________________________________________\r\nList mailing list\r\nhttps://lists.example/\r\n';
    for (const gap of ['\r\n', '\r\n\r\n', ' \r\n\t\r\n', '\n']) {
      assertSameDecode(Buffer.from(data + gap + footer), 'base64', `trailer after ${JSON.stringify(gap)}`);
    }
    const plan = planChunkedDecode(Buffer.from(data + '\r\n' + footer), 'base64', MAX_DECODED, 64);
    assert.equal(plan.trailerOffset, data.length);
  });

  it('falls back to raw bytes on invalid characters', () => {
    const data = lines(randomBytes(600, 61).toString('base64'), 76, '\r\n');
    const cases = [
      data.slice(0, 200) + '*' + data.slice(200),
      data + 'footer, but without an empty line\r\n',
      data.slice(0, 201) + '\r\n\r\nnot a trailer: data before is not a multiple of four\r\n',
      '\r\n\r\nonly a footer, no data\r\n',
      data.slice(0, 100) + '\f' + data.slice(100),
      data.slice(0, 100) + '\u00a0' + data.slice(100),
    ];
    for (const [i, text] of cases.entries()) {
      const body = Buffer.from(text, 'latin1');
      assertSameDecode(body, 'base64', `invalid case ${i}`);
      assert.match(planChunkedDecode(body, 'base64', MAX_DECODED).error ?? '', /^invalid base64: byte 0x/);
    }
  });

  it('returns a blank body as is', () => {
    assertSameDecode(Buffer.from(' \r\n\t\r\n'), 'base64', 'blank');
    assert.ok(planChunkedDecode(Buffer.from('\r\n'), 'base64', MAX_DECODED).view);
  });

  it('matches on random bodies', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=== \t\r\n\n';
    for (let seed = 100; seed < 400; seed++) {
      const noise = randomBytes(200 + (seed % 50), seed);
      const text = [...noise].map((byte) => alphabet[byte % alphabet.length]).join('');
      assertSameDecode(Buffer.from(text), 'base64', `random body ${seed}`);
    }
  });
});

describe('planChunkedDecode quoted-printable', () => {
  it('decodes soft line breaks at every slice edge', () => {
    // Random bytes without CR and LF, which the encoder would read as line breaks.
    const binary = randomBytes(2000, 71).map((byte) => (byte === 0x0d || byte === 0x0a ? 0x20 : byte));
    const data = Buffer.concat([binary, Buffer.from('caf\u00e9 = sign, trailing blanks   \r\nnext line\t\r\n', 'utf8')]);
    const body = Buffer.from(encodeQuotedPrintable(data, '\r\n'), 'latin1');
    assertSameDecode(body, 'quoted-printable', 'encoded binary');
    assert.ok([...planChunkedDecode(body, 'quoted-printable', MAX_DECODED, 100).chunks()].length > 10, 'body came in too few chunks');
    assert.ok(Buffer.concat([...planChunkedDecode(body, 'quoted-printable', MAX_DECODED, 7).chunks()]).equals(data));
  });

  it('keeps escapes joined across soft breaks', () => {
    const cases = [
      'a=4=\r\n1b\r\nnext\r\n',
      'a=4=\n1b\nnext\n',
      'line one =  \r\nstill one\r\n',
      'line one = \t\r \nstill one\r\n',
      '==\r\n41 after a doubled equals sign\r\n',
      'trailing blanks   \r\n   leading blanks\r\n\r\n',
      'no final line break =',
      'ends with blanks  ',
      'CR only\rline breaks=\rhere\r',
      'stray = sign and =ZZ and =4\r\n',
      '==\nb= \n0\n',
      '=E2=80=\r\n=99 split multi-byte sequence=\r\n',
    ];
    for (const text of cases) {
      assertSameDecode(Buffer.from(text.repeat(40), 'latin1'), 'quoted-printable', JSON.stringify(text));
    }
  });

  it('matches libqp on random bodies', () => {
    const alphabet = 'ab=0F \t\r\n\n=';
    for (let seed = 500; seed < 1500; seed++) {
      const noise = randomBytes(300, seed);
      const body = Buffer.from([...noise].map((byte) => alphabet[byte % alphabet.length]).join(''), 'latin1');
      assertSameDecode(body, 'quoted-printable', `random body ${seed}`);
      if (body.some((byte) => byte !== 0x20 && byte !== 0x09 && byte !== 0x0d && byte !== 0x0a)) {
        assert.ok(Buffer.concat([...planChunkedDecode(body, 'quoted-printable', MAX_DECODED, 16).chunks()]).equals(libqp.decode(body)), `random body ${seed} differs from libqp`);
      }
    }
  });
});

describe('planChunkedDecode other encodings', () => {
  it('returns identity bodies as views', () => {
    const body = Buffer.from('plain text\r\n');
    for (const encoding of ['7bit', '8bit', 'binary']) {
      const plan = planChunkedDecode(body, encoding, MAX_DECODED);
      assert.equal(plan.view, body);
      assert.deepEqual([...plan.chunks()], [body]);
    }
  });

  it('decodes uuencode and x-gzip64 whole', () => {
    const uuencoded = Buffer.from('begin 644 a.txt\n#86)C\n`\nend\n');
    assertSameDecode(uuencoded, 'x-uuencode', 'x-uuencode');
    assertSameDecode(Buffer.from('bm90IGd6aXA=\n'), 'x-gzip64', 'x-gzip64 that is not gzip');
    assertSameDecode(Buffer.from('data'), 'x-unknown', 'unknown encoding');
  });

  it('rejects a slice size below one group', () => {
    assert.throws(() => planChunkedDecode(Buffer.from('QQ=='), 'base64', MAX_DECODED, 3), /invalid decode slice size 3/);
  });
});
