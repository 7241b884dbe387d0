/**
 * Splits a raw message into the objects the anti-virus scans and acts on.
 *
 * Objects, in message order:
 *  - every leaf part, including parts inside attached message/rfc822 messages (`nested`), and the
 *    body of a message that is not multipart (kind `body`);
 *  - every uuencoded block found in a text/plain leaf (kind `uuencoded`, id `<leaf id>/uu<n>`);
 *  - the preamble and epilogue of a multipart when they hold more than blanks (ids
 *    `<multipart id>/preamble` and `/epilogue`), because text there is still delivered;
 *  - text after the base64 data of a leaf, such as a mailing list footer (`<leaf id>/trailer`);
 *  - the parts of a multipart beyond the part limit, as one object (`<multipart id>/unsplit`).
 *
 * `decoded` contains the transfer-decoded bytes to scan. When an object cannot be decoded or split,
 * `decoded` contains its raw bytes and `error` says why, so content is never dropped. `splitMessage`
 * never throws: an unexpected failure yields one object with the whole message and an error.
 * Object ids are stable for a given message and limits, and `rebuildMessage` accepts them.
 *
 * A leaf whose encoded body is larger than `LAZY_DECODE_THRESHOLD` bytes and needs decoding keeps
 * no decoded bytes. Its `size` and `digest` come from one chunked pass. Its `chunks()` and `head()`
 * decode again on each call, and `decoded` is a getter that decodes the whole body on each access.
 */
import { createHash } from 'node:crypto';
import type { ContentDescription } from './headers';
import { planChunkedDecode } from './stream-decode';
import { IDENTITY_ENCODINGS, decodeTransferEncoding } from './transfer-encoding';
import { type MimeEntity, type MimeLimits, type MimeTree, parseMimeTree } from './tree';
import { type UuencodedBlock, findUuencodedBlocks } from './uuencode';

export type MimeObjectKind = 'part' | 'body' | 'uuencoded' | 'preamble' | 'epilogue' | 'trailer' | 'unsplit';

export interface MimeObject {
  /** Stable id such as "2", "1.2", "1.2/uu0", "0/preamble"; the key for `rebuildMessage` edits. */
  id: string;
  /** IMAP part number as numbers; a uuencoded block has the path of the text part that holds it. */
  path: number[];
  kind: MimeObjectKind;
  /** Lowercased type/subtype as declared (default text/plain, or message/rfc822 in a digest). */
  contentType: string;
  charset: string | null;
  /** File name from Content-Disposition filename, else Content-Type name, decoded; or the uuencode name. */
  filename: string | null;
  /** Lowercased Content-Disposition type, or null without one. */
  disposition: string | null;
  /** Lowercased Content-Transfer-Encoding (`7bit` when missing). */
  transferEncoding: string;
  /** Length of `decoded`, in bytes. */
  size: number;
  /** The decoded bytes. On a lazy object this getter decodes the body again on each access. */
  decoded: Buffer;
  /**
   * Yields `decoded` in order, in one or more chunks, without holding all of it when the object is
   * lazy. Each call starts from the beginning. Objects from `splitMessage` always have it, so
   * callers that may get other objects use `objectChunks`.
   */
  chunks?(): Iterable<Buffer>;
  /** Returns the first `length` bytes of `decoded`, or all of them when it is shorter. */
  head?(length: number): Buffer;
  /**
   * Byte range of the whole entity (header included) in the original message. A uuencoded block
   * reports the range of the text part that holds it; the body of a non-multipart message covers
   * the whole message.
   */
  rawRange: { start: number; end: number };
  /** Hex SHA-256 of `decoded`, the cache key for scan verdicts. */
  digest: string;
  /** True inside an attached message. */
  nested: boolean;
  /** Reason the object could not be decoded or split, in which case `decoded` contains raw bytes. */
  error?: string;
}

export interface MimeSplit {
  objects: MimeObject[];
  /** Structural problems found while walking the message, one sentence each. */
  defects: string[];
}

export type SplitOptions = Partial<MimeLimits>;

/** Encoded body size in bytes above which a leaf that needs decoding keeps no decoded bytes. */
export const LAZY_DECODE_THRESHOLD = 1024 * 1024;

/** Yields the decoded bytes of `object` in chunks, from `chunks()` when it has one. */
export function objectChunks(object: MimeObject): Iterable<Buffer> {
  return object.chunks ? object.chunks() : [object.decoded];
}

/** Returns the first `length` decoded bytes of `object`, from `head()` when it has one. */
export function objectHead(object: MimeObject, length: number): Buffer {
  return object.head ? object.head(length) : object.decoded.subarray(0, length);
}

export function splitMessage(raw: Buffer, options: SplitOptions = {}): MimeSplit {
  try {
    const tree = parseMimeTree(raw, options);
    return { objects: collectObjects(tree), defects: tree.defects };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return {
      objects: [wholeMessageObject(raw, `MIME parsing failed: ${reason}`)],
      defects: [`MIME parsing failed: ${reason}`],
    };
  }
}

/** Position of an object in the entity tree, which `rebuildMessage` uses to edit the message. */
export type ObjectLocation =
  | { kind: 'entity'; entity: MimeEntity }
  | { kind: 'region'; region: 'preamble' | 'epilogue' | 'unsplit' | 'trailer'; entity: MimeEntity; range: { start: number; end: number } }
  | { kind: 'uuencoded'; entity: MimeEntity; block: UuencodedBlock; decodedText: Buffer };

export interface LocatedObjects {
  objects: MimeObject[];
  locations: Map<string, ObjectLocation>;
}

export function collectObjects(tree: MimeTree): MimeObject[] {
  return locateObjects(tree).objects;
}

export function locateObjects(tree: MimeTree): LocatedObjects {
  const located: LocatedObjects = { objects: [], locations: new Map() };
  collectFromEntity(tree, tree.root, located);
  return located;
}

function collectFromEntity(tree: MimeTree, entity: MimeEntity, located: LocatedObjects): void {
  const { raw } = tree;
  const { objects, locations } = located;
  const content = entity.content;

  if (content.kind === 'message') {
    collectFromEntity(tree, content.message, located);
    return;
  }

  if (content.kind === 'multipart') {
    const { preamble, epilogue, unsplit } = content;
    if (!isBlank(raw, preamble.start, preamble.end)) {
      const object = regionObject(raw, `${entity.id}/preamble`, 'preamble', entity, preamble);
      objects.push(object);
      locations.set(object.id, { kind: 'region', region: 'preamble', entity, range: preamble });
    }
    for (const segment of content.segments) collectFromEntity(tree, segment.entity, located);
    if (unsplit) {
      const object = regionObject(raw, unsplit.id, 'unsplit', entity, unsplit);
      object.error = unsplit.error;
      objects.push(object);
      locations.set(unsplit.id, { kind: 'region', region: 'unsplit', entity, range: unsplit });
    }
    if (epilogue && !isBlank(raw, epilogue.start, epilogue.end)) {
      const object = regionObject(raw, `${entity.id}/epilogue`, 'epilogue', entity, epilogue);
      objects.push(object);
      locations.set(object.id, { kind: 'region', region: 'epilogue', entity, range: epilogue });
    }
    return;
  }

  const { object: leaf, trailerOffset, mayContainUuencode } = leafObject(tree, entity);
  objects.push(leaf);
  locations.set(leaf.id, { kind: 'entity', entity });

  if (trailerOffset !== undefined) {
    const range = { start: entity.header.bodyStart + trailerOffset, end: entity.end };
    if (!isBlank(raw, range.start, range.end)) {
      const trailer = regionObject(raw, `${leaf.id}/trailer`, 'trailer', entity, range);
      objects.push(trailer);
      locations.set(trailer.id, { kind: 'region', region: 'trailer', entity, range });
    }
  }

  if (!leaf.error && leaf.contentType === 'text/plain' && mayContainUuencode) {
    const remaining = Math.max(0, tree.limits.maxParts - objects.length);
    // Read once: on a lazy object each read of `decoded` decodes the body again.
    const text = leaf.decoded;
    for (const [index, block] of findUuencodedBlocks(text, remaining).entries()) {
      locations.set(`${leaf.id}/uu${index}`, { kind: 'uuencoded', entity, block, decodedText: text });
      objects.push(withReaders({
        id: `${leaf.id}/uu${index}`,
        path: leaf.path,
        kind: 'uuencoded',
        contentType: 'application/octet-stream',
        charset: null,
        filename: block.filename,
        disposition: 'attachment',
        transferEncoding: 'x-uuencode',
        size: block.decoded.length,
        decoded: block.decoded,
        rawRange: leaf.rawRange,
        digest: sha256(block.decoded),
        nested: leaf.nested,
        ...(block.error ? { error: block.error } : {}),
      }));
    }
  }
}

interface Leaf {
  object: MimeObject;
  trailerOffset?: number;
  /** False when the decoded text contains no "begin ", so it cannot contain a uuencoded block. */
  mayContainUuencode: boolean;
}

function leafObject(tree: MimeTree, entity: MimeEntity): Leaf {
  const body = tree.raw.subarray(entity.header.bodyStart, entity.end);
  const description = entity.description;
  const structureError = entity.content.kind === 'leaf' ? entity.content.structureError : undefined;
  if (!structureError && body.length > LAZY_DECODE_THRESHOLD && !IDENTITY_ENCODINGS.has(description.transferEncoding)) {
    return lazyLeafObject(tree, entity, body);
  }

  const result = structureError
    ? { decoded: body, error: structureError }
    : decodeTransferEncoding(body, description.transferEncoding, tree.limits.maxDecodedBytes);

  const object: MimeObject = withReaders({
    ...leafFields(entity),
    size: result.decoded.length,
    decoded: result.decoded,
    rawRange: { start: entity.start, end: entity.end },
    digest: sha256(result.decoded),
    nested: entity.nested,
    ...(result.error ? { error: result.error } : {}),
  });
  return 'trailerOffset' in result ? { object, trailerOffset: result.trailerOffset, mayContainUuencode: true } : { object, mayContainUuencode: true };
}

function leafFields(entity: MimeEntity): Pick<MimeObject, 'id' | 'path' | 'kind' | 'contentType' | 'charset' | 'filename' | 'disposition' | 'transferEncoding'> {
  return {
    id: entity.id,
    path: entity.path,
    kind: entity.role === 'message' ? 'body' : 'part',
    ...describe(entity.description),
  };
}

// Builds a leaf that keeps only the plan to decode its body. It has the same fields as an eager
// leaf, with `decoded` as an enumerable getter so that spreading or comparing the object reads it.
function lazyLeafObject(tree: MimeTree, entity: MimeEntity, body: Buffer): Leaf {
  const plan = planChunkedDecode(body, entity.description.transferEncoding, tree.limits.maxDecodedBytes);
  const extra = plan.trailerOffset !== undefined ? { trailerOffset: plan.trailerOffset } : {};
  const common = {
    rawRange: { start: entity.start, end: entity.end },
    nested: entity.nested,
    ...(plan.error ? { error: plan.error } : {}),
  };
  if (plan.view) {
    const decoded = plan.view;
    return { object: withReaders({ ...leafFields(entity), size: decoded.length, decoded, digest: sha256(decoded), ...common }), ...extra, mayContainUuencode: true };
  }

  const pass = digestChunks(plan.chunks(), 'begin ');
  const object = { ...leafFields(entity), size: pass.size, digest: pass.digest, ...common } as MimeObject;
  Object.defineProperty(object, 'decoded', {
    enumerable: true,
    configurable: true,
    get: () => concatChunks(plan.chunks(), pass.size),
  });
  defineReaders(object, () => plan.chunks());
  return { object, ...extra, mayContainUuencode: pass.containsMarker };
}

// Copies the chunks into one Buffer of `size` bytes, so no list of all chunks is held on the way.
function concatChunks(chunks: Iterable<Buffer>, size: number): Buffer {
  const whole = Buffer.allocUnsafe(size);
  let offset = 0;
  for (const chunk of chunks) offset += chunk.copy(whole, offset);
  if (offset !== size) throw new Error(`decoding the object again gave ${offset} bytes instead of ${size}`);
  return whole;
}

// Hashes and measures the chunks in one pass, and returns whether `marker` occurs in their concatenation.
function digestChunks(chunks: Iterable<Buffer>, marker: string): { size: number; digest: string; containsMarker: boolean } {
  const hash = createHash('sha256');
  const markerBytes = Buffer.from(marker, 'latin1');
  let size = 0;
  let containsMarker = false;
  // The last bytes seen before this chunk, so a marker split across chunk edges is found too.
  const keep = markerBytes.length - 1;
  let tail = Buffer.alloc(0);
  for (const chunk of chunks) {
    hash.update(chunk);
    size += chunk.length;
    if (containsMarker) continue;

    const edge = Buffer.concat([tail, chunk.subarray(0, keep)]);
    containsMarker = edge.includes(markerBytes) || chunk.includes(markerBytes);
    tail = chunk.length >= keep ? Buffer.from(chunk.subarray(chunk.length - keep)) : edge.subarray(Math.max(0, edge.length - keep));
  }
  return { size, digest: hash.digest('hex'), containsMarker };
}

// Adds `chunks()` and `head()` over `decoded` to an object that contains its decoded bytes.
function withReaders(object: MimeObject): MimeObject {
  defineReaders(object, () => [object.decoded]);
  return object;
}

// The readers are not enumerable, so comparing two objects with deepEqual looks at the data only.
function defineReaders(object: MimeObject, chunks: () => Iterable<Buffer>): void {
  Object.defineProperty(object, 'chunks', { value: chunks, enumerable: false, configurable: true, writable: true });
  Object.defineProperty(object, 'head', {
    value: (length: number) => readHead(chunks(), length),
    enumerable: false,
    configurable: true,
    writable: true,
  });
}

function readHead(chunks: Iterable<Buffer>, length: number): Buffer {
  const parts: Buffer[] = [];
  let collected = 0;
  for (const chunk of chunks) {
    if (collected >= length) break;
    const part = chunk.subarray(0, length - collected);
    parts.push(part);
    collected += part.length;
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

function describe(description: ContentDescription): Pick<MimeObject, 'contentType' | 'charset' | 'filename' | 'disposition' | 'transferEncoding'> {
  return {
    contentType: description.contentType,
    charset: description.charset,
    filename: description.filename,
    disposition: description.disposition,
    transferEncoding: description.transferEncoding,
  };
}

function regionObject(
  raw: Buffer,
  id: string,
  kind: MimeObjectKind,
  multipart: MimeEntity,
  range: { start: number; end: number },
): MimeObject {
  const decoded = raw.subarray(range.start, range.end);
  return withReaders({
    id,
    path: multipart.path,
    kind,
    contentType: 'text/plain',
    charset: null,
    filename: null,
    disposition: null,
    transferEncoding: '7bit',
    size: decoded.length,
    decoded,
    rawRange: { start: range.start, end: range.end },
    digest: sha256(decoded),
    nested: multipart.nested,
  });
}

function wholeMessageObject(raw: Buffer, error: string): MimeObject {
  return withReaders({
    id: '1',
    path: [1],
    kind: 'body',
    contentType: 'application/octet-stream',
    charset: null,
    filename: null,
    disposition: null,
    transferEncoding: '7bit',
    size: raw.length,
    decoded: raw,
    rawRange: { start: 0, end: raw.length },
    digest: sha256(raw),
    nested: false,
    error,
  });
}

function isBlank(raw: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const byte = raw[i];
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d && byte !== 0x0a) return false;
  }
  return true;
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
