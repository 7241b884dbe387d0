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
 */
import { createHash } from 'node:crypto';
import type { ContentDescription } from './headers';
import { decodeTransferEncoding } from './transfer-encoding';
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
  decoded: Buffer;
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
      objects.push({ ...regionObject(raw, unsplit.id, 'unsplit', entity, unsplit), error: unsplit.error });
      locations.set(unsplit.id, { kind: 'region', region: 'unsplit', entity, range: unsplit });
    }
    if (epilogue && !isBlank(raw, epilogue.start, epilogue.end)) {
      const object = regionObject(raw, `${entity.id}/epilogue`, 'epilogue', entity, epilogue);
      objects.push(object);
      locations.set(object.id, { kind: 'region', region: 'epilogue', entity, range: epilogue });
    }
    return;
  }

  const { object: leaf, trailerOffset } = leafObject(tree, entity);
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

  if (!leaf.error && leaf.contentType === 'text/plain') {
    const remaining = Math.max(0, tree.limits.maxParts - objects.length);
    for (const [index, block] of findUuencodedBlocks(leaf.decoded, remaining).entries()) {
      locations.set(`${leaf.id}/uu${index}`, { kind: 'uuencoded', entity, block, decodedText: leaf.decoded });
      objects.push({
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
      });
    }
  }
}

function leafObject(tree: MimeTree, entity: MimeEntity): { object: MimeObject; trailerOffset?: number } {
  const body = tree.raw.subarray(entity.header.bodyStart, entity.end);
  const description = entity.description;
  const structureError = entity.content.kind === 'leaf' ? entity.content.structureError : undefined;
  const result = structureError
    ? { decoded: body, error: structureError }
    : decodeTransferEncoding(body, description.transferEncoding, tree.limits.maxDecodedBytes);

  const object: MimeObject = {
    id: entity.id,
    path: entity.path,
    kind: entity.role === 'message' ? 'body' : 'part',
    ...describe(description),
    size: result.decoded.length,
    decoded: result.decoded,
    rawRange: { start: entity.start, end: entity.end },
    digest: sha256(result.decoded),
    nested: entity.nested,
    ...(result.error ? { error: result.error } : {}),
  };
  return 'trailerOffset' in result ? { object, trailerOffset: result.trailerOffset } : { object };
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
  return {
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
  };
}

function wholeMessageObject(raw: Buffer, error: string): MimeObject {
  return {
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
  };
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
