/**
 * Rebuilds a raw message after per-object edits, changing only the objects that are edited.
 *
 * `rebuildMessage(raw, edits)` takes object ids from `splitMessage` (run with the same limits) and
 * applies each edit:
 *  - a removed part of a multipart disappears with its boundary delimiter line. A replaced part
 *    becomes a new part (new header fields and body) between the same delimiters;
 *  - a multipart that loses every part keeps one short text/plain part with the removal notice, so
 *    the result stays valid MIME;
 *  - the body of a message that is not multipart (the top-level message or an attached one), and
 *    the top multipart "0", are edited in place: the message keeps its other header fields and gets
 *    new Content-Type, Content-Transfer-Encoding and Content-Disposition fields and a new body,
 *    the removal notice when removed;
 *  - a uuencoded block is removed from, or replaced inside, its text part; a text part that was
 *    base64 or quoted-printable encoded is encoded again the same way, any other keeps its other bytes;
 *  - a preamble, epilogue or trailer is dropped or replaced by the replacement body as text, and an
 *    unsplit region is dropped or replaced by one new part.
 * Every byte outside the edited objects is copied from the original, so a message without edits
 * comes back byte-identical (the same Buffer). Ids of container parts (a multipart part, an attached
 * message/rfc822 part) are accepted too and act on the whole container. An edit of an object inside
 * a removed or replaced container has no effect. An id that the message does not contain throws a
 * RangeError, because silently skipping a removal would deliver the content the policy rejected.
 */
import { type ReplacementContent, DEFAULT_REMOVED_NOTICE, buildContent, buildPart, noticeContent } from './part-builder';
import { type ObjectLocation, type SplitOptions, locateObjects } from './objects';
import { detectLineBreakMode, preferredLineBreak } from './lines';
import { encodeTransferEncoding } from './transfer-encoding';
import { type MimeEntity, type MimeTree, type MultipartContent, parseMimeTree, walkTree } from './tree';
import { type UuencodedBlock, uuencode } from './uuencode';

export type ObjectEdit = { kind: 'remove' } | ({ kind: 'replace' } & ReplacementContent);

export interface RebuildOptions extends SplitOptions {
  /** Text of the part that replaces removed content where something must remain. */
  removedNotice?: string;
}

type RegionName = 'preamble' | 'epilogue' | 'unsplit' | 'trailer';

interface UuencodedEdit {
  block: UuencodedBlock;
  decodedText: Buffer;
  edit: ObjectEdit;
}

interface EditPlan {
  entityEdits: Map<MimeEntity, ObjectEdit>;
  regionEdits: Map<MimeEntity, Map<RegionName, ObjectEdit>>;
  trailers: Map<MimeEntity, { start: number; end: number }>;
  uuencodedEdits: Map<MimeEntity, UuencodedEdit[]>;
  /** Entities that contain an edit, themselves included; everything else is copied as is. */
  dirty: Set<MimeEntity>;
}

const CONTENT_FIELDS: ReadonlySet<string> = new Set(['content-type', 'content-transfer-encoding', 'content-disposition']);

export function rebuildMessage(raw: Buffer, edits: ReadonlyMap<string, ObjectEdit>, options: RebuildOptions = {}): Buffer {
  if (edits.size === 0) return raw;

  const tree = parseMimeTree(raw, options);
  const plan = planEdits(tree, edits);
  const writer = new MessageWriter(tree, plan, options.removedNotice ?? DEFAULT_REMOVED_NOTICE);
  writer.writeEntity(tree.root);
  return Buffer.concat(writer.chunks);
}

function planEdits(tree: MimeTree, edits: ReadonlyMap<string, ObjectEdit>): EditPlan {
  const { locations } = locateObjects(tree);
  const parents = new Map<MimeEntity, MimeEntity>();
  const entitiesById = new Map<string, MimeEntity>();
  for (const entity of walkTree(tree.root)) {
    if (entity.ownsId) entitiesById.set(entity.id, entity);
    for (const child of childEntities(entity)) parents.set(child, entity);
  }

  const plan: EditPlan = { entityEdits: new Map(), regionEdits: new Map(), trailers: new Map(), uuencodedEdits: new Map(), dirty: new Set() };
  for (const location of locations.values()) {
    if (location.kind === 'region' && location.region === 'trailer') plan.trailers.set(location.entity, location.range);
  }

  for (const [id, edit] of edits) {
    assertValidEdit(id, edit);
    const location: ObjectLocation | undefined = locations.get(id) ?? entityLocation(entitiesById.get(id));
    if (!location) {
      throw new RangeError(`rebuildMessage: the message has no object with id "${id}"; use ids from splitMessage run with the same limits`);
    }
    recordEdit(plan, location, edit);
    for (let entity: MimeEntity | undefined = location.entity; entity; entity = parents.get(entity)) plan.dirty.add(entity);
  }
  return plan;
}

function entityLocation(entity: MimeEntity | undefined): ObjectLocation | undefined {
  return entity ? { kind: 'entity', entity } : undefined;
}

function recordEdit(plan: EditPlan, location: ObjectLocation, edit: ObjectEdit): void {
  if (location.kind === 'entity') {
    plan.entityEdits.set(location.entity, edit);
  } else if (location.kind === 'region') {
    const regions = plan.regionEdits.get(location.entity) ?? new Map<RegionName, ObjectEdit>();
    regions.set(location.region, edit);
    plan.regionEdits.set(location.entity, regions);
  } else {
    const list = plan.uuencodedEdits.get(location.entity) ?? [];
    list.push({ block: location.block, decodedText: location.decodedText, edit });
    plan.uuencodedEdits.set(location.entity, list);
  }
}

function assertValidEdit(id: string, edit: ObjectEdit): void {
  if (edit.kind === 'remove') return;
  if (edit.kind === 'replace' && typeof edit.contentType === 'string' && (typeof edit.body === 'string' || Buffer.isBuffer(edit.body))) return;
  throw new TypeError(`rebuildMessage: invalid edit for object "${id}"; expected { kind: 'remove' } or { kind: 'replace', contentType, body }`);
}

function childEntities(entity: MimeEntity): MimeEntity[] {
  if (entity.content.kind === 'multipart') return entity.content.segments.map((segment) => segment.entity);
  if (entity.content.kind === 'message') return [entity.content.message];
  return [];
}

class MessageWriter {
  readonly chunks: Buffer[] = [];
  private readonly raw: Buffer;
  private readonly lineBreak: string;

  constructor(
    private readonly tree: MimeTree,
    private readonly plan: EditPlan,
    private readonly removedNotice: string,
  ) {
    this.raw = tree.raw;
    this.lineBreak = tree.lineBreak;
  }

  writeEntity(entity: MimeEntity): void {
    if (!this.plan.dirty.has(entity)) {
      this.copy(entity.start, entity.end);
      return;
    }

    const edit = this.plan.entityEdits.get(entity);
    if (edit && entity.role === 'message') {
      this.writeMessageContent(entity, edit.kind === 'remove' ? noticeContent(this.removedNotice) : edit);
      return;
    }

    const content = entity.content;
    if (content.kind === 'multipart') {
      this.writeMultipart(entity, content);
    } else if (content.kind === 'message') {
      this.copy(entity.start, content.message.start);
      this.writeEntity(content.message);
      this.copy(content.message.end, entity.end);
    } else {
      this.writeLeafWithInnerEdits(entity);
    }
  }

  // Keeps every header field but the content fields, so Subject, From and trace fields survive.
  private writeMessageContent(entity: MimeEntity, replacement: ReplacementContent): void {
    const { header } = entity;
    let position = entity.start;
    for (const field of header.fields) {
      if (!CONTENT_FIELDS.has(field.name)) continue;
      this.copy(position, field.start);
      position = field.end;
    }
    this.copy(position, header.headerEnd);

    const lastByte = header.headerEnd > entity.start ? this.raw[header.headerEnd - 1] : undefined;
    if (header.headerEnd > entity.start && lastByte !== 0x0a && lastByte !== 0x0d) this.text(this.lineBreak);

    const { headerLines, body } = buildContent(replacement, this.lineBreak);
    const hasMimeVersion = header.fields.some((field) => field.name === 'mime-version');
    if (entity.depth === 0 && !hasMimeVersion) headerLines.unshift('MIME-Version: 1.0');
    this.text(headerLines.join(this.lineBreak) + this.lineBreak + this.lineBreak);
    this.chunks.push(body);
  }

  private writeMultipart(entity: MimeEntity, content: MultipartContent): void {
    const regions = this.plan.regionEdits.get(entity);
    const { segments, unsplit, closeDelimiter, epilogue } = content;

    this.copy(entity.start, content.preamble.start);
    this.writeTextRegion(content.preamble, regions?.get('preamble'), true);

    const segmentEdits = segments.map((segment) => this.plan.entityEdits.get(segment.entity));
    const unsplitEdit = regions?.get('unsplit');
    const survivors = segmentEdits.filter((edit) => edit?.kind !== 'remove').length + (unsplit && unsplitEdit?.kind !== 'remove' ? 1 : 0);
    const notice = noticeContent(this.removedNotice);

    // Tracks whether the output ends with a line break, which a close delimiter written below needs.
    let endsWithLineBreak = true;
    segments.forEach((segment, index) => {
      const edit = segmentEdits[index];
      const followedByDelimiter = index < segments.length - 1 || unsplit !== null || closeDelimiter !== null;
      if (survivors === 0 && index === 0) {
        endsWithLineBreak = this.writeReplacedSegment(segment.start, segment.entity, segment.end, notice, followedByDelimiter);
      } else if (edit?.kind === 'replace') {
        endsWithLineBreak = this.writeReplacedSegment(segment.start, segment.entity, segment.end, edit, followedByDelimiter);
      } else if (edit?.kind !== 'remove') {
        this.copy(segment.start, segment.entity.start);
        this.writeEntity(segment.entity);
        this.copy(segment.entity.end, segment.end);
        endsWithLineBreak = segment.entity.end < segment.end;
      }
    });

    if (unsplit) {
      let replacement: ReplacementContent | null = null;
      if (unsplitEdit?.kind === 'replace') replacement = unsplitEdit;
      else if (survivors === 0 && segments.length === 0) replacement = notice;
      if (replacement) {
        this.text(`--${content.boundary}${this.lineBreak}`);
        this.chunks.push(buildPart(replacement, this.lineBreak));
        this.text(this.lineBreak);
        endsWithLineBreak = true;
      } else if (unsplitEdit?.kind !== 'remove') {
        this.copy(unsplit.start, unsplit.end);
        endsWithLineBreak = false;
      }
    }

    if (closeDelimiter) {
      this.copy(closeDelimiter.start, closeDelimiter.end);
      if (epilogue) this.writeTextRegion(epilogue, regions?.get('epilogue'), false);
      return;
    }
    // Without a close delimiter the last part runs to the end of the multipart, so an edit could
    // move that end. Writing the missing delimiter keeps the bytes of every part.
    this.text(`${endsWithLineBreak ? '' : this.lineBreak}--${content.boundary}--${this.lineBreak}`);
  }

  /** Writes a new part between the delimiters of `part`; returns whether the output ends with a line break. */
  private writeReplacedSegment(
    start: number,
    part: MimeEntity,
    end: number,
    replacement: ReplacementContent,
    followedByDelimiter: boolean,
  ): boolean {
    this.copy(start, part.start);
    this.chunks.push(buildPart(replacement, this.lineBreak));
    if (part.end < end) {
      this.copy(part.end, end);
      return true;
    }
    if (!followedByDelimiter) return false;
    this.text(this.lineBreak);
    return true;
  }

  private writeLeafWithInnerEdits(entity: MimeEntity): void {
    const trailer = this.plan.trailers.get(entity);
    const trailerEdit = this.plan.regionEdits.get(entity)?.get('trailer');
    const uuencodedEdits = this.plan.uuencodedEdits.get(entity);
    const dataEnd = trailer ? trailer.start : entity.end;

    this.copy(entity.start, entity.header.bodyStart);
    if (uuencodedEdits && uuencodedEdits.length > 0) {
      const text = applyUuencodedEdits(uuencodedEdits, entity.description.charset);
      this.chunks.push(encodeTransferEncoding(text, entity.description.transferEncoding, this.lineBreak));
    } else {
      this.copy(entity.header.bodyStart, dataEnd);
    }
    if (!trailer) return;
    // An empty line keeps the replacement apart from the base64 data, as the original trailer was.
    if (trailerEdit?.kind === 'replace') this.text(this.lineBreak);
    this.writeTextRegion(trailer, trailerEdit, false);
  }

  private writeTextRegion(range: { start: number; end: number }, edit: ObjectEdit | undefined, mustEndWithLineBreak: boolean): void {
    if (!edit) {
      this.copy(range.start, range.end);
      return;
    }
    if (edit.kind === 'remove') return;
    this.text(asRegionText(edit.body, this.lineBreak, mustEndWithLineBreak));
  }

  private copy(start: number, end: number): void {
    if (end > start) this.chunks.push(this.raw.subarray(start, end));
  }

  private text(value: string): void {
    this.chunks.push(Buffer.from(value, 'utf8'));
  }
}

// Text placed between delimiters must not look like a delimiter line itself.
function asRegionText(body: Buffer | string, lineBreak: string, mustEndWithLineBreak: boolean): string {
  const text = (typeof body === 'string' ? body : body.toString('utf8'))
    .split(/\r\n|\n|\r/)
    .map((line) => (line.startsWith('--') ? ` ${line}` : line))
    .join(lineBreak);
  if (text === '' || !mustEndWithLineBreak || text.endsWith(lineBreak)) return text;
  return text + lineBreak;
}

function applyUuencodedEdits(edits: UuencodedEdit[], charset: string | null): Buffer {
  const text = edits[0].decodedText;
  const lineBreak = preferredLineBreak(text, detectLineBreakMode(text));
  const ordered = [...edits].sort((a, b) => a.block.start - b.block.start);
  const pieces: Buffer[] = [];
  let position = 0;
  for (const { block, edit } of ordered) {
    pieces.push(text.subarray(position, block.start));
    if (edit.kind === 'replace') pieces.push(uuencodedReplacement(block, edit, charset, lineBreak));
    position = block.end;
  }
  pieces.push(text.subarray(position));
  return Buffer.concat(pieces);
}

// A text replacement is inserted as text when the part's charset can carry it. Anything else is
// uuencoded again, so the replacement stays one object.
function uuencodedReplacement(block: UuencodedBlock, edit: ReplacementContent, charset: string | null, lineBreak: string): Buffer {
  const data = typeof edit.body === 'string' ? Buffer.from(edit.body, 'utf8') : edit.body;
  const isText = edit.contentType.trim().toLowerCase().startsWith('text/');
  const fitsCharset = data.every((byte) => byte < 0x80) || charset === 'utf-8' || charset === 'utf8';
  if (isText && fitsCharset) {
    const text = data.toString('utf8').split(/\r\n|\n|\r/).join(lineBreak);
    return Buffer.from(text.endsWith(lineBreak) ? text : text + lineBreak, 'utf8');
  }
  return uuencode(data, edit.filename ?? block.filename, lineBreak, block.fileMode);
}
