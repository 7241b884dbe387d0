// Name and MIME filtering of objects before the anti-virus scan: an object selected here gets the
// status av/filtered and is not scanned.
//
// IncludeBy* lists select objects; ExcludeBy* lists protect objects from being selected, by name
// or by type alike, so an explicit exclusion always wins. When an Include list is empty but its
// Exclude list is not, every object the Exclude list does not protect is selected, which lets an
// administrator allow a few types and filter the rest. Name masks apply only to objects that have
// a file name.

import type { PolicySettings } from '../config'
import type { MimeObject } from '../mime/objects'
import { matchAnyMask } from '../match/mask'

export function isFiltered(object: Pick<MimeObject, 'filename' | 'contentType'>, settings: PolicySettings): boolean {
  const excluded =
    (object.filename !== null && matchAnyMask(settings.ExcludeByName, object.filename)) ||
    matchAnyMask(settings.ExcludeByMime, object.contentType)
  if (excluded) return false

  const byName =
    object.filename !== null && selects(settings.IncludeByName, settings.ExcludeByName, object.filename)
  const byMime = selects(settings.IncludeByMime, settings.ExcludeByMime, object.contentType)
  return byName || byMime
}

function selects(include: readonly string[], exclude: readonly string[], value: string): boolean {
  if (matchAnyMask(exclude, value)) return false
  if (include.length > 0) return matchAnyMask(include, value)
  return exclude.length > 0
}
