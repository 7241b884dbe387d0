// Public API of the mailgw.conf layer: parsing, error formatting, the schema and the generated
// reference and default file. Other modules import from here, not from the files behind it.

export { formatConfigError, loadConfig, parseConfig } from './parse'
export type { ParseResult } from './parse'
export * from './model'
export * from './types'
export {
  GROUP_SECTION,
  GROUP_SELECTOR_KEYS,
  POLICY_KEYS,
  SCHEMA,
  SECTION_ORDER,
  sectionSpec,
  sectionTitle,
} from './schema'
export type { FieldOf, KeySpec, KeyStatus, SectionId, SectionSpec, SectionValues, ValueKind } from './schema'
export { normaliseAddressMask, parseForwardRoute, parseForwardTarget } from './forward'
export { renderConfigReference, renderDefaultConfig } from './render'
