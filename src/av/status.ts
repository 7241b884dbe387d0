// Maps a clamd verdict for one object to its anti-virus object status.
//
//   stream OK                          av/clean
//   Heuristics.Encrypted.*             av/protected   (encrypted archive or document, contents unknown)
//   Heuristics.Limits.Exceeded.*       av/error       (a size, file-count, depth or time limit cut the scan short)
//   other Heuristics.*, PUA.*          av/suspicious
//   any other signature                av/infected
//   clamd error about the object       av/error       (e.g. "INSTREAM size limit exceeded")
//
// Names are classified without the ".UNOFFICIAL" suffix that clamd adds to signatures from
// non-official databases, so a name from our own database counts the same as the official one.
// clamd being unreachable is not a verdict: the client throws ClamdUnavailableError instead.

import type { ClamdVerdict } from './clamd';

/** Object statuses that a clamd verdict can produce. The other av/* statuses are set elsewhere. */
export type ClamdStatus = 'av/clean' | 'av/infected' | 'av/protected' | 'av/suspicious' | 'av/error';

const UNOFFICIAL_SUFFIX = '.UNOFFICIAL';

export function statusFromVerdict(verdict: ClamdVerdict): ClamdStatus {
  switch (verdict.result) {
    case 'clean':
      return 'av/clean';
    case 'error':
      return 'av/error';
    case 'found':
      return statusFromSignature(verdict.signature);
  }
}

export function statusFromSignature(signature: string): Exclude<ClamdStatus, 'av/clean'> {
  const name = displaySignature(signature);

  if (name.startsWith('Heuristics.Encrypted.')) return 'av/protected';
  // AlertExceedsMax reports objects that were not fully scanned under this name.
  if (name.startsWith('Heuristics.Limits.Exceeded')) return 'av/error';
  if (name.startsWith('Heuristics.') || name.startsWith('PUA.')) return 'av/suspicious';
  return 'av/infected';
}

/** Signature name for logs, headers and notifications, without the ".UNOFFICIAL" suffix. */
export function displaySignature(signature: string): string {
  return signature.endsWith(UNOFFICIAL_SUFFIX) ? signature.slice(0, -UNOFFICIAL_SUFFIX.length) : signature;
}
