/**
 * MIME entity tree of a raw message, with exact byte offsets and no decoding.
 *
 * `parseMimeTree` walks the raw bytes itself so that every entity, boundary delimiter, preamble and
 * epilogue has exact offsets, which `rebuildMessage` needs to copy untouched parts byte for byte.
 * Malformed input does not make it throw. A multipart without a boundary parameter or without any
 * delimiter line, or a container nested deeper than `maxDepth`, becomes a leaf with a `structureError`;
 * parts beyond `maxParts` stay together as one unsplit region. Problems that do not stop the walk (a
 * missing close delimiter, a missing header separator) are listed in `defects`.
 *
 * Entity ids follow IMAP part numbers (RFC 3501 section 6.4.5): the parts of the top multipart are
 * "1", "2", ..., their parts "2.1", "2.2", and the body of a message that is not multipart is "1".
 * An attached message/rfc822 part "3" shares its id with the multipart inside it, whose parts are
 * "3.1", "3.2"; a non-multipart attached message has its body at "3.1". The top multipart itself
 * is "0".
 */
import { type ContentDescription, type HeaderBlock, describeContent, readHeaderBlock } from './headers';
import { type LineBreakMode, detectLineBreakMode, lineBreakStartBefore, preferredLineBreak, readLine } from './lines';
import { IDENTITY_ENCODINGS } from './transfer-encoding';

export interface MimeLimits {
  /** Maximum nesting of multiparts and attached messages; deeper containers are not split. */
  maxDepth: number;
  /** Maximum number of entities in the tree; further parts of a multipart stay unsplit. */
  maxParts: number;
  /** Maximum size of a decompressed x-gzip64 body, in bytes. */
  maxDecodedBytes: number;
}

export const DEFAULT_LIMITS: MimeLimits = { maxDepth: 32, maxParts: 1000, maxDecodedBytes: 64 * 1024 * 1024 };

export interface ByteRange {
  start: number;
  end: number;
}

export interface LeafContent {
  kind: 'leaf';
  /** Reason a declared container was not split, in which case its body is scanned as raw bytes. */
  structureError?: string;
}

export interface MultipartSegment {
  /** Offset of the "--boundary" delimiter line that opens this part. */
  start: number;
  /** Offset just past the line break that precedes the next delimiter line, or the body end. */
  end: number;
  entity: MimeEntity;
}

export interface UnsplitRegion {
  id: string;
  /** Offset of the delimiter line of the first part that was not split. */
  start: number;
  end: number;
  error: string;
}

export interface MultipartContent {
  kind: 'multipart';
  boundary: string;
  preamble: ByteRange;
  segments: MultipartSegment[];
  unsplit: UnsplitRegion | null;
  /** The close delimiter line, or null when the body ends without one. */
  closeDelimiter: ByteRange | null;
  /** Bytes after the close delimiter line, or null without a close delimiter. */
  epilogue: ByteRange | null;
}

export interface MessageContent {
  kind: 'message';
  message: MimeEntity;
}

export interface MimeEntity {
  id: string;
  path: number[];
  /** False for the multipart inside an attached message, whose id belongs to the message/rfc822 part. */
  ownsId: boolean;
  /** `message` for the top-level message and attached messages, `part` for parts of a multipart. */
  role: 'message' | 'part';
  start: number;
  end: number;
  header: HeaderBlock;
  description: ContentDescription;
  /** True inside an attached message. */
  nested: boolean;
  depth: number;
  content: LeafContent | MultipartContent | MessageContent;
}

export interface MimeTree {
  raw: Buffer;
  root: MimeEntity;
  lineBreakMode: LineBreakMode;
  /** The line break new content should use, matching the message. */
  lineBreak: string;
  defects: string[];
  limits: MimeLimits;
  entityCount: number;
}

const MESSAGE_TYPES: ReadonlySet<string> = new Set(['message/rfc822', 'message/global', 'message/news']);

interface WalkContext {
  raw: Buffer;
  mode: LineBreakMode;
  limits: MimeLimits;
  defects: string[];
  entityCount: number;
}

interface EntityPlacement {
  start: number;
  end: number;
  role: 'message' | 'part';
  depth: number;
  nested: boolean;
  defaultType: string;
  /** Id and path of a part, or of the message/rfc822 part that contains an attached message. */
  id: string;
  path: number[];
}

export function parseMimeTree(raw: Buffer, limits: Partial<MimeLimits> = {}): MimeTree {
  const mode = detectLineBreakMode(raw);
  const context: WalkContext = { raw, mode, limits: { ...DEFAULT_LIMITS, ...limits }, defects: [], entityCount: 0 };
  const root = walkEntity(context, {
    start: 0,
    end: raw.length,
    role: 'message',
    depth: 0,
    nested: false,
    defaultType: 'text/plain',
    id: '',
    path: [],
  });
  return {
    raw,
    root,
    lineBreakMode: mode,
    lineBreak: preferredLineBreak(raw, mode),
    defects: context.defects,
    limits: context.limits,
    entityCount: context.entityCount,
  };
}

function walkEntity(context: WalkContext, placement: EntityPlacement): MimeEntity {
  const { raw, mode } = context;
  context.entityCount += 1;

  const isTopLevel = placement.role === 'message' && placement.depth === 0;
  const header = readHeaderBlock(raw, placement.start, placement.end, mode, isTopLevel);
  const description = describeContent(header, placement.defaultType);
  if (!header.hasSeparator && header.bodyStart < placement.end && header.fields.length > 0) {
    context.defects.push(`entity at offset ${placement.start} has no empty line between its header and body`);
  }

  const plan = planContent(context, placement, header, description);
  const { id, path, ownsId } = assignId(placement, plan.kind === 'multipart');
  const entity: MimeEntity = {
    id,
    path,
    ownsId,
    role: placement.role,
    start: placement.start,
    end: placement.end,
    header,
    description,
    nested: placement.nested,
    depth: placement.depth,
    content: { kind: 'leaf' },
  };

  if (plan.kind === 'leaf') {
    entity.content = plan.structureError ? { kind: 'leaf', structureError: plan.structureError } : { kind: 'leaf' };
  } else if (plan.kind === 'multipart') {
    entity.content = walkMultipart(context, entity, plan.boundary, plan.delimiters);
  } else {
    const message = walkEntity(context, {
      start: header.bodyStart,
      end: placement.end,
      role: 'message',
      depth: placement.depth + 1,
      nested: true,
      defaultType: 'text/plain',
      id,
      path,
    });
    entity.content = { kind: 'message', message };
  }
  return entity;
}

// The top-level message has no number of its own, and an attached message takes the number of the
// message/rfc822 part that contains it. A multipart there shares that id, and a single body gets ".1".
function assignId(placement: EntityPlacement, isMultipart: boolean): { id: string; path: number[]; ownsId: boolean } {
  if (placement.role === 'part') return { id: placement.id, path: placement.path, ownsId: true };
  if (placement.depth === 0) return isMultipart ? { id: '0', path: [], ownsId: true } : { id: '1', path: [1], ownsId: true };
  if (isMultipart) return { id: placement.id, path: placement.path, ownsId: false };
  return { id: `${placement.id}.1`, path: [...placement.path, 1], ownsId: true };
}

type ContentPlan =
  | { kind: 'leaf'; structureError?: string }
  | { kind: 'multipart'; boundary: string; delimiters: DelimiterLine[] }
  | { kind: 'message' };

function planContent(
  context: WalkContext,
  placement: EntityPlacement,
  header: HeaderBlock,
  description: ContentDescription,
): ContentPlan {
  const type = description.contentType;
  const isMultipart = type.startsWith('multipart/');
  const isMessage = MESSAGE_TYPES.has(type);
  if (!isMultipart && !isMessage) return { kind: 'leaf' };

  if (placement.depth >= context.limits.maxDepth) {
    const structureError = `${type} nested deeper than ${context.limits.maxDepth} levels was not split`;
    context.defects.push(`entity at offset ${placement.start}: ${structureError}`);
    return { kind: 'leaf', structureError };
  }

  if (isMessage) {
    // RFC 2046 allows only identity encodings here; an encoded message is scanned as one object.
    return IDENTITY_ENCODINGS.has(description.transferEncoding) ? { kind: 'message' } : { kind: 'leaf' };
  }

  const boundary = (description.params.boundary ?? '').replace(/[ \t]+$/, '');
  if (boundary === '') {
    const structureError = `${type} has no boundary parameter, so its body was not split`;
    context.defects.push(`entity at offset ${placement.start}: ${structureError}`);
    return { kind: 'leaf', structureError };
  }

  let delimiters = findDelimiters(context, boundary, header.bodyStart, placement.end);
  const beforeFold = boundary.split(/[ \t]{2,}/)[0].trimEnd();
  if (delimiters.length === 0 && beforeFold !== '' && beforeFold !== boundary) {
    // Some mailers fold a long boundary parameter but write only its first line in the body.
    delimiters = findDelimiters(context, beforeFold, header.bodyStart, placement.end);
    if (delimiters.length > 0) return { kind: 'multipart', boundary: beforeFold, delimiters };
  }
  if (delimiters.length === 0 || delimiters[0].close) {
    const structureError = `${type} body contains no "--${boundary}" delimiter line, so it was not split`;
    context.defects.push(`entity at offset ${placement.start}: ${structureError}`);
    return { kind: 'leaf', structureError };
  }
  return { kind: 'multipart', boundary, delimiters };
}

interface DelimiterLine {
  start: number;
  end: number;
  close: boolean;
}

/**
 * Finds the delimiter lines of `boundary` in [start, end), up to and including the first close
 * delimiter. A line is a delimiter when it starts with "--" and the boundary, followed only by
 * blanks, or by "--" and blanks for the close delimiter. A longer boundary that merely starts with
 * this one does not match.
 */
function findDelimiters(context: WalkContext, boundary: string, start: number, end: number): DelimiterLine[] {
  const { raw, mode } = context;
  const marker = Buffer.from(`--${boundary}`, 'utf8');
  const delimiters: DelimiterLine[] = [];

  let searchFrom = start;
  while (searchFrom < end) {
    const found = raw.indexOf(marker, searchFrom);
    if (found === -1 || found + marker.length > end) break;
    searchFrom = found + 1;
    if (!isLineStart(raw, found, start, mode)) continue;

    const line = readLine(raw, found, end, mode);
    const kind = classifyDelimiterTail(raw.subarray(found + marker.length, line.contentEnd));
    if (kind === null) continue;

    delimiters.push({ start: line.start, end: line.end, close: kind === 'close' });
    if (kind === 'close') break;
    searchFrom = line.end;
  }
  return delimiters;
}

function isLineStart(raw: Buffer, offset: number, floor: number, mode: LineBreakMode): boolean {
  if (offset === floor) return true;
  const previous = raw[offset - 1];
  return mode === 'cr' ? previous === 0x0d : previous === 0x0a;
}

function classifyDelimiterTail(tail: Buffer): 'open' | 'close' | null {
  let i = 0;
  const skipBlanks = (): void => {
    while (i < tail.length && (tail[i] === 0x20 || tail[i] === 0x09 || tail[i] === 0x0d)) i++;
  };
  skipBlanks();
  if (i === tail.length) return 'open';
  if (tail[i] !== 0x2d || tail[i + 1] !== 0x2d) return null;
  i += 2;
  skipBlanks();
  return i === tail.length ? 'close' : null;
}

function walkMultipart(context: WalkContext, entity: MimeEntity, boundary: string, delimiters: DelimiterLine[]): MultipartContent {
  const { raw, mode } = context;
  const bodyStart = entity.header.bodyStart;
  const closeLine = delimiters[delimiters.length - 1].close ? delimiters[delimiters.length - 1] : null;
  const openLines = closeLine ? delimiters.slice(0, -1) : delimiters;
  const bodyEnd = closeLine ? closeLine.start : entity.end;
  if (!closeLine) {
    context.defects.push(`multipart ${entity.id} has no close delimiter "--${boundary}--"; its last part runs to the end`);
  }

  const childPrefix = entity.id === '0' ? '' : `${entity.id}.`;
  const defaultType = entity.description.contentType === 'multipart/digest' ? 'message/rfc822' : 'text/plain';
  const segments: MultipartSegment[] = [];
  let unsplit: UnsplitRegion | null = null;

  for (let index = 0; index < openLines.length; index++) {
    const line = openLines[index];
    const nextLineStart = index + 1 < openLines.length ? openLines[index + 1].start : bodyEnd;

    if (context.entityCount >= context.limits.maxParts) {
      const error = `more than ${context.limits.maxParts} MIME entities; the remaining parts of multipart ${entity.id} were not split`;
      context.defects.push(error);
      unsplit = { id: `${entity.id}/unsplit`, start: line.start, end: bodyEnd, error };
      break;
    }

    const partStart = line.end;
    const partEnd = Math.max(partStart, nextLineStart === bodyEnd && !closeLine
      ? bodyEnd
      : lineBreakStartBefore(raw, nextLineStart, partStart, mode));
    const child = walkEntity(context, {
      start: partStart,
      end: partEnd,
      role: 'part',
      depth: entity.depth + 1,
      nested: entity.nested,
      defaultType,
      id: `${childPrefix}${index + 1}`,
      path: [...entity.path, index + 1],
    });
    segments.push({ start: line.start, end: nextLineStart, entity: child });
  }

  return {
    kind: 'multipart',
    boundary,
    preamble: { start: bodyStart, end: openLines[0].start },
    segments,
    unsplit,
    closeDelimiter: closeLine ? { start: closeLine.start, end: closeLine.end } : null,
    epilogue: closeLine ? { start: closeLine.end, end: entity.end } : null,
  };
}

/** Visits every entity depth-first in message order. */
export function* walkTree(entity: MimeEntity): Generator<MimeEntity> {
  yield entity;
  if (entity.content.kind === 'multipart') {
    for (const segment of entity.content.segments) yield* walkTree(segment.entity);
  } else if (entity.content.kind === 'message') {
    yield* walkTree(entity.content.message);
  }
}
