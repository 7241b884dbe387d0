/**
 * MIME object layer of the anti-virus: `splitMessage` turns a raw message into scannable objects,
 * `rebuildMessage` writes the message back after per-object remove and replace edits.
 */
export { type MimeObject, type MimeObjectKind, type MimeSplit, type SplitOptions, splitMessage } from './objects';
export { type ObjectEdit, type RebuildOptions, rebuildMessage } from './rebuild';
export { DEFAULT_REMOVED_NOTICE, type ReplacementContent } from './part-builder';
export { DEFAULT_LIMITS, type MimeLimits, type MimeTree, parseMimeTree } from './tree';
