// Turns the per-section key states of one parsed file into a MailgwConfig. It fills defaults,
// merges each group with the policy and resolves relative paths. It also runs the checks that
// involve more than one key: required keys, backoff order, network names and group selectors.
// Problems are appended to parsed.errors, and the caller discards the config when there is any.

import { dirname, isAbsolute, resolve } from 'node:path'

import { compileAccess, type AccessRuleLines } from '../access/compile'
import { excerptListValues, listValueExcerpt } from './excerpt'
import type { GroupConfig, MailgwConfig, PolicySettings } from './model'
import type { KeyState, ParsedFile, SectionState } from './parse'
import type { KeySpec, SectionId } from './schema'
import { GROUP_SELECTOR_KEYS, POLICY_KEYS, SCHEMA, sectionTitle } from './schema'
import type { NamedNetwork, SenderSpec } from './types'
import { orderStatuses, parseValueText } from './values'

type Values = Record<string, unknown>
type Fail = (line: number, message: string) => void

const INTENSITY: Record<string, string> = {
  soft: 'minimum',
  minimum: 'minimum',
  standard: 'standard',
  high: 'high',
  hard: 'maximum',
  maximum: 'maximum',
}

const defaultCache = new Map<KeySpec, unknown>()

function isList(spec: KeySpec): boolean {
  return spec.repeatable === true || spec.commaList === true
}

function finalValue(spec: KeySpec, items: unknown[]): unknown {
  if (spec.type === 'statusList' || spec.type === 'subjectMarkList') return orderStatuses(items as string[])
  if (isList(spec)) return items
  return items[0]
}

/** Parses the schema default with the same code as file values; a bad default is a bug in the schema. */
function defaultValue(spec: KeySpec): unknown {
  if (defaultCache.has(spec)) return structuredClone(defaultCache.get(spec))

  let lines: readonly string[] = []
  if (typeof spec.default === 'string') lines = [spec.default]
  else if (spec.default !== undefined) lines = spec.default
  const items: unknown[] = []
  for (const line of lines) {
    if (line === '') continue
    const parsed = parseValueText(spec, line, { file: '(schema default)', line: 0 })
    if (parsed.invalid.length > 0) throw new Error(`invalid schema default "${line}": ${parsed.invalid[0].expected}`)
    items.push(...parsed.items)
  }
  const value = finalValue(spec, items)
  defaultCache.set(spec, value)
  return structuredClone(value)
}

function buildValues(keys: Readonly<Record<string, KeySpec>>, state: SectionState | undefined): Values {
  const values: Values = {}
  for (const [name, spec] of Object.entries(keys)) {
    const keyState = state?.keys.get(name)
    values[name] = keyState === undefined ? defaultValue(spec) : finalValue(spec, keyState.items)
  }
  return values
}

function resolvePaths(keys: Readonly<Record<string, KeySpec>>, values: Values, bases: Record<string, string>): void {
  for (const [name, spec] of Object.entries(keys)) {
    const value = values[name]
    if (spec.type !== 'path' || typeof value !== 'string' || isAbsolute(value)) continue
    values[name] = resolve(bases[spec.base ?? 'instance'], value)
  }
}

/** Applies the older SpamDetection key when the same section does not set SpamRateLimit. */
function applySpamDetection(fail: Fail, section: SectionState | undefined, values: Values): void {
  const detection = section?.keys.get('SpamDetection')
  if (detection === undefined || detection.items.length === 0) return
  const rate = section?.keys.get('SpamRateLimit')
  if (rate !== undefined) {
    fail(Math.max(rate.line, detection.line), `both SpamRateLimit and SpamDetection are set in ${section?.title}: keep SpamRateLimit only`)
    return
  }
  values.SpamRateLimit = INTENSITY[String(detection.items[0])]
}

export function assembleConfig(parsed: ParsedFile, absoluteFile: string): MailgwConfig {
  const { file, errors } = parsed
  const fail: Fail = (line, message) => errors.push({ file, line, message })

  const byId = new Map<SectionId, SectionState>()
  for (const section of parsed.sections) if (section.id !== 'group') byId.set(section.id, section)

  const values = {} as Record<SectionId, Values>
  for (const id of Object.keys(SCHEMA) as SectionId[]) values[id] = buildValues(SCHEMA[id].keys, byId.get(id))

  checkRequired(byId, fail)
  checkBackoff(byId.get('timeouts'), values.timeouts, fail)
  checkNetworkNames(values.network.Network as NamedNetwork[], errors, file)
  // The rule grammar lives with the access stage; its errors carry the line of each bad rule.
  // Rules read from list files are shown only as excerpts, like every other list-file value.
  const ruleLines = values.access as unknown as AccessRuleLines
  const access = compileAccess(ruleLines, values.network.Network as NamedNetwork[], dirname(absoluteFile))
  errors.push(...excerptListValues(access.errors, file, Object.values(ruleLines).flat()))

  const policySection = byId.get('policy')
  if (policySection === undefined) {
    fail(1, `missing section [mailgw.policy]: it is mandatory, even empty, because groups inherit from it`)
  }

  // SpamDetection of [mailgw.antispam] is where KMG 5.5 set the intensity; the policy's own keys win.
  const policy = values.policy
  const antispamDetection = values.antispam.SpamDetection
  const policySetsIntensity = policySection?.keys.has('SpamRateLimit') === true || policySection?.keys.has('SpamDetection') === true
  if (typeof antispamDetection === 'string' && !policySetsIntensity) policy.SpamRateLimit = INTENSITY[antispamDetection]
  applySpamDetection(fail, policySection, policy)

  const postmaster = values.network.Postmaster
  for (const name of Object.keys(POLICY_KEYS) as (keyof typeof POLICY_KEYS)[]) {
    const spec: KeySpec = POLICY_KEYS[name]
    if (spec.fallback === 'Postmaster' && policy[name] === undefined) policy[name] = postmaster
  }

  const configDir = dirname(absoluteFile)
  const bases: Record<string, string> = { instance: dirname(configDir), config: configDir, templates: configDir }
  for (const id of Object.keys(SCHEMA) as SectionId[]) {
    if (id !== 'policy') resolvePaths(SCHEMA[id].keys, values[id], bases)
  }
  bases.templates = String(values.options.TemplatesPath)
  resolvePaths(POLICY_KEYS, policy, bases)

  const networkNames = new Set((values.network.Network as NamedNetwork[]).map((n) => n.name.toLowerCase()))
  const groups = parsed.sections
    .filter((section) => section.id === 'group')
    .map((section) => buildGroup(section, policy as PolicySettings, bases, networkNames, errors, fail, file))

  return {
    file: absoluteFile,
    dir: configDir,
    ...(values as unknown as Omit<MailgwConfig, 'file' | 'dir' | 'groups'>),
    groups,
  }
}

function checkRequired(byId: Map<SectionId, SectionState>, fail: Fail): void {
  for (const id of Object.keys(SCHEMA) as SectionId[]) {
    const keys: Readonly<Record<string, KeySpec>> = SCHEMA[id].keys
    const section = byId.get(id)
    for (const [name, spec] of Object.entries(keys)) {
      if (spec.required !== true) continue
      if (section === undefined) {
        fail(1, `missing section ${sectionTitle(id)} with required key ${name}`)
      } else if (!section.keys.has(name)) {
        fail(section.line, `missing required key ${name} in ${section.title}`)
      }
    }
  }
}

function checkBackoff(section: SectionState | undefined, timeouts: Values, fail: Fail): void {
  const minimal = timeouts.MinimalBackoffTime as number
  const maximal = timeouts.MaximalBackoffTime as number
  if (minimal === undefined || maximal === undefined || minimal <= maximal) return

  const lines = [section?.keys.get('MinimalBackoffTime')?.lastLine, section?.keys.get('MaximalBackoffTime')?.lastLine]
  const line = Math.max(...lines.map((l) => l ?? 0))
  fail(
    line === 0 ? 1 : line,
    `MinimalBackoffTime (${minimal} s) is greater than MaximalBackoffTime (${maximal} s) in ${section?.title ?? '[mailgw.timeouts]'}: ` +
      'lower MinimalBackoffTime or raise MaximalBackoffTime',
  )
}

function checkNetworkNames(networks: NamedNetwork[], errors: ParsedFile['errors'], configFile: string): void {
  const seen = new Map<string, NamedNetwork>()
  for (const network of networks) {
    const earlier = seen.get(network.name.toLowerCase())
    if (earlier !== undefined) {
      const name = network.file === configFile ? network.name : listValueExcerpt(network.name)
      errors.push({
        file: network.file,
        line: network.line,
        message: `duplicate network name ${name} (first defined at ${earlier.file}:${earlier.line}): give each Network its own name`,
      })
      continue
    }
    seen.set(network.name.toLowerCase(), network)
  }
}

function selectorValue(section: SectionState, name: 'Senders' | 'Recipients'): unknown[] | undefined {
  const state: KeyState | undefined = section.keys.get(name)
  return state === undefined ? undefined : state.items
}

function buildGroup(
  section: SectionState,
  policy: PolicySettings,
  bases: Record<string, string>,
  networkNames: Set<string>,
  errors: ParsedFile['errors'],
  fail: Fail,
  file: string,
): GroupConfig {
  const explicit = new Set([...section.keys.keys()].filter((name) => !(name in GROUP_SELECTOR_KEYS)))
  const own: Values = {}
  for (const name of explicit) {
    const state = section.keys.get(name)
    if (state !== undefined) own[name] = finalValue(state.spec, state.items)
  }
  resolvePaths(POLICY_KEYS, own, bases)

  const settings = { ...structuredClone(policy), ...own } as Values
  applySpamDetection(fail, section, settings)

  const senders = selectorValue(section, 'Senders') as SenderSpec[] | undefined
  const recipients = selectorValue(section, 'Recipients') as string[] | undefined
  if (senders === undefined && recipients === undefined) {
    fail(section.line, `group ${section.title} sets neither Senders nor Recipients: set at least one (a missing key means *@*)`)
  }
  for (const sender of senders ?? []) {
    if (sender.kind === 'network' && !networkNames.has(sender.name.toLowerCase())) {
      const name = sender.file === file ? sender.name : listValueExcerpt(sender.name)
      errors.push({
        file: sender.file,
        line: sender.line,
        message: `unknown network "${name}" in Senders of ${section.title}: define it with Network=${name} ADDRESS/BITS in [mailgw.network]`,
      })
    }
  }

  const group: GroupConfig = {
    name: section.groupName ?? '',
    file,
    line: section.line,
    settings: settings as PolicySettings,
    explicit,
  }
  if (senders !== undefined) group.Senders = senders
  if (recipients !== undefined) group.Recipients = recipients
  return group
}
