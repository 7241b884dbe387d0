// TypeScript shape of a parsed mailgw.conf, derived from the schema so a key added there appears
// here with the right type. Durations are in seconds, sizes in bytes, paths absolute.

import type { FieldOf, SectionId, SectionValues } from './schema'
import { GROUP_SELECTOR_KEYS, POLICY_KEYS, SCHEMA } from './schema'

export type NetworkConfig = SectionValues<typeof SCHEMA.network.keys>
export type AccessConfig = SectionValues<typeof SCHEMA.access.keys>
export type ForwardConfig = SectionValues<typeof SCHEMA.forward.keys>
export type LimitsConfig = SectionValues<typeof SCHEMA.limits.keys>
export type TimeoutsConfig = SectionValues<typeof SCHEMA.timeouts.keys>
export type ResolveConfig = SectionValues<typeof SCHEMA.resolve.keys>
export type ArchiveConfig = SectionValues<typeof SCHEMA.archive.keys>
export type AntivirusConfig = SectionValues<typeof SCHEMA.antivirus.keys>
export type AntispamConfig = SectionValues<typeof SCHEMA.antispam.keys>
export type OptionsConfig = SectionValues<typeof SCHEMA.options.keys>
export type LocalConfig = SectionValues<typeof SCHEMA.local.keys>
export type UpdaterOptionsConfig = SectionValues<typeof SCHEMA.updaterOptions.keys>
export type UpdaterReportConfig = SectionValues<typeof SCHEMA.updaterReport.keys>

/** The settings of [mailgw.policy], and the merged settings of a group. */
export type PolicySettings = SectionValues<typeof POLICY_KEYS>

export type PolicyKey = keyof typeof POLICY_KEYS

export interface GroupConfig {
  name: string
  /** File and line of the group's section header. */
  file: string
  line: number
  /** undefined when the group does not set the key (any sender); [] when set empty (no sender). */
  Senders?: FieldOf<typeof GROUP_SELECTOR_KEYS.Senders>
  Recipients?: FieldOf<typeof GROUP_SELECTOR_KEYS.Recipients>
  /** The group's own value of each key, else the policy's. */
  settings: PolicySettings
  /** Policy keys the group sets itself. */
  explicit: Set<string>
}

export interface MailgwConfig {
  /** Absolute path of the parsed file, and its directory. */
  file: string
  dir: string
  network: NetworkConfig
  access: AccessConfig
  forward: ForwardConfig
  limits: LimitsConfig
  timeouts: TimeoutsConfig
  resolve: ResolveConfig
  archive: ArchiveConfig
  antivirus: AntivirusConfig
  antispam: AntispamConfig
  options: OptionsConfig
  local: LocalConfig
  policy: PolicySettings
  /** [mailgw.group:NAME] sections in file order. */
  groups: GroupConfig[]
  updaterOptions: UpdaterOptionsConfig
  updaterReport: UpdaterReportConfig
}

/** Compiles only while every schema section has a property in MailgwConfig. */
export type SchemaSectionsCovered = { [S in SectionId]: MailgwConfig[S] }
