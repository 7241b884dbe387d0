// Text generated from the schema: the Markdown reference (docs/config-reference.md) and a commented
// mailgw.conf with every key at its default (`mailgw default-config`). Both read only the schema,
// so they change exactly when a key, default, range or doc line changes.

import type { KeySpec, SectionId } from './schema'
import { SECTION_ORDER, sectionSpec, sectionTitle } from './schema'
import { formatDuration, sizeFactor } from './values'

const TYPE_LABEL: Record<KeySpec['type'], string> = {
  string: 'text',
  path: 'path',
  boolean: 'boolean',
  integer: 'integer',
  duration: 'duration',
  size: 'size',
  enum: 'one of',
  hostname: 'host name',
  address: 'e-mail address',
  addressMask: 'address mask',
  domainMask: 'domain mask',
  nameMask: 'file-name mask',
  mimeMask: 'MIME type mask',
  ipPort: 'IP:PORT',
  nameserver: 'IP[:PORT]',
  clamdSocket: 'socket path or HOST:PORT',
  url: 'URL',
  rule: 'access rule',
  dnsbl: 'ZONE [RATING]',
  namedNetwork: 'NAME ADDRESS[/BITS|/NETMASK][,...]',
  forwardRoute: 'MASK DOMAIN | MASK [HOST] | MASK [HOST:PORT]',
  sender: 'sender selector',
  statusList: 'status list',
  subjectMarkList: 'anti-spam status list',
}

function typeLabel(spec: KeySpec): string {
  const base = spec.type === 'enum' ? `one of ${(spec.values ?? []).map((v) => `\`${v}\``).join(', ')}` : TYPE_LABEL[spec.type]
  const unit = spec.unit === undefined ? '' : `, a plain number counts ${spec.unit}`
  return `${base}${unit}`
}

function defaultLines(spec: KeySpec): string[] {
  if (spec.default === undefined || spec.default === '') return []
  if (typeof spec.default === 'string') return [spec.default]
  return [...spec.default]
}

function defaultLabel(spec: KeySpec): string {
  if (spec.defaultText !== undefined) return spec.defaultText
  if (spec.required === true) return 'none (required)'
  const lines = defaultLines(spec)
  if (lines.length === 0) return spec.repeatable === true || spec.commaList === true ? 'none' : 'not set'
  return lines.map((line) => `\`${line}\``).join(', ')
}

function rangeLabel(spec: KeySpec): string | null {
  if (spec.min === undefined || spec.max === undefined) return null
  if (spec.type === 'duration') return `${formatDuration(spec.min)} to ${formatDuration(spec.max)}`
  if (spec.type === 'size') return `${spec.min / sizeFactor(spec)} to ${spec.max / sizeFactor(spec)} ${spec.unit}`
  return `${spec.min} to ${spec.max}`
}

function statusLabel(spec: KeySpec): string {
  if (spec.status === 'active') return 'active'
  if (spec.status === 'planned') return '**planned: parsed and validated, not yet in effect**'
  return 'ignored: accepted for KMG compatibility, has no effect'
}

const REFERENCE_INTRO = `# mailgw.conf reference

Generated from \`src/config/schema.ts\` by \`npm run docs:config\`. Edit the schema, then run that
command; a unit test fails when this file and the schema differ.

## File format

- \`[section]\` headers and \`Key=value\` lines; spaces around \`=\` and around the value are ignored.
- Lines whose first non-blank character is \`#\` or \`;\` are comments. Elsewhere these characters
  are part of the value.
- Sections are named \`[mailgw.X]\`; the older spelling \`[smtpgw.X]\` names the same section. A
  section may appear more than once and continues where it left off, except a group.
- Key names are written as below; another letter case is accepted. Unknown sections and keys are
  errors, and so is a second line of a key that is not repeatable.
- Keys marked repeatable take one value per line and collect all of them in file order. Status
  lists also take comma lists, and their lines add up.
- A repeatable key may read its values from a file: \`Key=file:/path/to/list\`, one value per
  line, blank lines and \`#\` comments skipped. A relative path is relative to the directory of
  mailgw.conf. Errors in such a file are reported with its name and line.
- Booleans: \`true\`, \`yes\`, \`y\`, \`on\`, \`1\` and \`false\`, \`no\`, \`n\`, \`off\`, \`0\`.
- Durations: a plain number counts the unit of the key; \`30s\`, \`5m\`, \`2h\` and \`1d\` are also
  accepted. The parsed config holds seconds.
- Sizes: a plain number counts the unit of the key; the suffixes \`K\`, \`M\` and \`G\` are also
  accepted. The parsed config holds bytes.
- Address masks use \`*\` and \`?\` and compare without regard to case. \`any\` and \`*\` mean
  \`*@*\`; a mask without \`@\` is a domain, so \`example.com\` means \`*@example.com\`.
- Status lists take \`as/spam\`, \`as/probable\`, \`as/formal\`, \`as/blacklisted\`, \`as/all\`,
  \`av/clean\`, \`av/infected\`, \`av/disinfected\`, \`av/suspicious\`, \`av/protected\`,
  \`av/error\`, \`av/not_checked\`, \`av/filtered\`, \`av/all\` and \`none\`. The names of KMG 5.0
  files without prefix (\`infected\`, \`spam\`, ...) are accepted, and \`all\` keeps its KMG 5.0
  meaning: disinfected, infected, suspicious, protected, error and filtered.
- Relative paths are resolved when the file is read: against the instance directory (the parent
  of the directory of mailgw.conf), the directory of mailgw.conf, or TemplatesPath, as each key
  says.

## Status of a key

- **active**: in effect.
- **planned**: parsed and validated, so a file written now keeps working, but not yet in effect.
- **ignored**: accepted so that files written for Kaspersky Mail Gateway 5.6 load; has no effect.
`

function renderKeyReference(name: string, spec: KeySpec): string {
  const lines = [`### ${name}`, '', spec.doc, '', `- Type: ${typeLabel(spec)}`]
  const range = rangeLabel(spec)
  if (range !== null) lines.push(`- Range: ${range}`)
  lines.push(`- Default: ${defaultLabel(spec)}`)
  if (spec.repeatable === true) lines.push('- Repeatable: yes')
  if (spec.commaList === true) lines.push('- Comma list: yes')
  if (spec.required === true) lines.push('- Required: yes')
  lines.push(`- Status: ${statusLabel(spec)}`)
  return lines.join('\n')
}

/** Returns the Markdown of docs/config-reference.md. */
export function renderConfigReference(): string {
  const parts = [REFERENCE_INTRO.trimEnd()]
  for (const id of SECTION_ORDER) {
    const spec = sectionSpec(id)
    parts.push(`## ${sectionTitle(id)}\n\n${spec.doc}`)
    for (const [name, key] of Object.entries(spec.keys)) {
      if (id === 'group' && !(name === 'Senders' || name === 'Recipients')) continue
      parts.push(renderKeyReference(name, key))
    }
    if (id === 'group') parts.push('Every key of [mailgw.policy] may also be set in a group; a key the group does not set comes from the policy.')
  }
  return `${parts.join('\n\n')}\n`
}

function commentLine(spec: KeySpec): string {
  const facts: string[] = []
  const range = rangeLabel(spec)
  if (spec.type === 'enum') facts.push(`one of ${(spec.values ?? []).join(', ')}`)
  if (spec.unit !== undefined) facts.push(`unit ${spec.unit}`)
  if (range !== null) facts.push(`range ${range}`)
  if (spec.repeatable === true) facts.push('repeatable')
  if (spec.required === true) facts.push('required')
  if (spec.defaultText !== undefined) facts.push(`default: ${spec.defaultText}`)
  if (spec.status === 'planned') facts.push('planned, not yet in effect')
  const extra = facts.length === 0 ? '' : ` (${facts.join('; ')})`
  return `# ${spec.doc}${extra}`
}

function renderKeyDefault(name: string, spec: KeySpec): string[] {
  const lines = [commentLine(spec)]
  if (spec.required === true) {
    lines.push(`${name}=${spec.example ?? ''}`)
    return lines
  }
  const values = defaultLines(spec)
  if (values.length === 0) {
    lines.push(`#${name}=`)
    return lines
  }
  for (const value of values) lines.push(`#${name}=${value}`)
  return lines
}

const DEFAULT_FILE_INTRO = `# mailgw.conf: configuration of haraka-mailgw, generated from the schema with every key.
#
# Each key is shown commented out at its default; remove the leading # to change it. Required keys
# are set to example values that must be replaced. Lines starting with # or ; are comments.
# Keys marked repeatable may appear on several lines. docs/config-reference.md describes every key.
`

const GROUP_EXAMPLE = `# Groups: mail whose envelope sender and recipient match a group is handled by that group's
# settings; keys the group does not set come from [mailgw.policy]. The first matching group in
# file order wins. Example:
#
#[mailgw.group:managers]
#Recipients=*@managers.example.com
#BlockMessage=as/spam,as/probable
`

/** Returns a commented mailgw.conf with every key at its default; it passes the checker as is. */
export function renderDefaultConfig(): string {
  const parts = [DEFAULT_FILE_INTRO]
  for (const id of SECTION_ORDER) {
    if (id === 'group') {
      parts.push(GROUP_EXAMPLE)
      continue
    }
    const spec = sectionSpec(id as SectionId)
    if (Object.values(spec.keys).every((key) => key.status === 'ignored')) continue
    const lines = [`# ${spec.doc}`, sectionTitle(id)]
    for (const [name, key] of Object.entries(spec.keys)) lines.push(...renderKeyDefault(name, key))
    parts.push(`${lines.join('\n')}\n`)
  }
  return parts.join('\n')
}
