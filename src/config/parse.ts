// Reads mailgw.conf into a MailgwConfig. Every problem becomes a ConfigError with file and line,
// and parsing goes on after each one, so a single run lists all of them. The config is returned
// only when there is no error. This module finds sections and keys and reads list files; value
// syntax is in values.ts, and checks across keys and the final assembly are in assemble.ts.

import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, join, resolve } from 'node:path'

import { assembleConfig } from './assemble'
import { listValueExcerpt } from './excerpt'
import { readIni } from './ini'
import type { MailgwConfig } from './model'
import type { KeySpec, SectionId } from './schema'
import { SCHEMA, sectionSpec } from './schema'
import type { ConfigError } from './types'
import type { ValueSource } from './values'
import { parseValueText } from './values'

export interface ParseResult {
  config: MailgwConfig | null
  errors: ConfigError[]
}

/** Values the file sets for one key of one section. */
export interface KeyState {
  name: string
  spec: KeySpec
  items: unknown[]
  line: number
  lastLine: number
}

export interface SectionState {
  id: SectionId | 'group'
  /** The header as written, e.g. `[smtpgw.limits]`, for messages. */
  title: string
  line: number
  groupName?: string
  keys: Map<string, KeyState>
}

export interface ParsedFile {
  file: string
  sections: SectionState[]
  errors: ConfigError[]
}

const GROUP_NAME_RE = /^[A-Za-z0-9_.@-]+$/

type Classified = { id: SectionId | 'group'; groupName?: string } | { error: string }

function classifySection(name: string): Classified {
  const lower = name.toLowerCase()
  const prefix = lower.startsWith('mailgw.') || lower.startsWith('smtpgw.') ? lower.slice(0, 7) : ''
  const rest = prefix === '' ? lower : lower.slice(7)

  if (prefix !== '' && rest.startsWith('group:')) {
    const groupName = name.slice(prefix.length + 'group:'.length).trim()
    if (!GROUP_NAME_RE.test(groupName)) {
      return { error: `invalid group name in [${name}]: use letters, digits, _, ., @ or -` }
    }
    return { id: 'group', groupName }
  }

  for (const id of Object.keys(SCHEMA) as SectionId[]) {
    const spec = SCHEMA[id]
    if (spec.prefixed === (prefix !== '') && spec.header === rest) return { id }
  }

  const known = (Object.keys(SCHEMA) as SectionId[]).filter((id) => SCHEMA[id].prefixed).map((id) => SCHEMA[id].header)
  return {
    error:
      `unknown section [${name}]: expected [mailgw.X] (or [smtpgw.X]) with X one of ` +
      `${known.join(', ')}, group:NAME, or [updater.options], [updater.report]`,
  }
}

function describeReadError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return 'file not found'
  if (code === 'EACCES') return 'permission denied'
  return (err as Error).message
}

/** Squeezes a key to letters and digits so `Check AV` and `check_av` can suggest CheckAV. */
function squeeze(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '')
}

function findKey(keys: Readonly<Record<string, KeySpec>>, written: string): string | undefined {
  if (written in keys) return written
  return Object.keys(keys).find((name) => name.toLowerCase() === written.toLowerCase())
}

function isListKey(spec: KeySpec): boolean {
  return spec.repeatable === true || spec.commaList === true
}

/** Collects ConfigErrors and parses values for one file. */
class FileParser {
  readonly errors: ConfigError[] = []
  readonly sections: SectionState[] = []
  private readonly byId = new Map<SectionId, SectionState>()
  private readonly groups = new Map<string, SectionState>()

  constructor(
    private readonly file: string,
    private readonly listBase: string,
  ) {}

  error(file: string, line: number, message: string): void {
    this.errors.push({ file, line, message })
  }

  run(text: string): void {
    const ini = readIni(text)
    for (const problem of ini.problems) this.error(this.file, problem.line, problem.message)

    for (const section of ini.sections) {
      const state = this.openSection(section.name, section.line)
      if (state === null) continue
      for (const entry of section.entries) this.readEntry(state, entry.key, entry.value, entry.line)
    }
  }

  private openSection(name: string, line: number): SectionState | null {
    const classified = classifySection(name)
    if ('error' in classified) {
      this.error(this.file, line, classified.error)
      return null
    }

    const title = `[${name}]`
    if (classified.id === 'group') {
      const groupName = classified.groupName ?? ''
      const key = groupName.toLowerCase()
      const earlier = this.groups.get(key)
      if (earlier !== undefined) {
        this.error(this.file, line, `duplicate group ${title} (first defined on line ${earlier.line}): give each group its own name`)
        return null
      }
      const state: SectionState = { id: 'group', title, line, groupName, keys: new Map() }
      this.groups.set(key, state)
      this.sections.push(state)
      return state
    }

    // A section that appears twice continues where it left off; repeated keys are still checked.
    const existing = this.byId.get(classified.id)
    if (existing !== undefined) return existing
    const state: SectionState = { id: classified.id, title, line, keys: new Map() }
    this.byId.set(classified.id, state)
    this.sections.push(state)
    return state
  }

  private readEntry(section: SectionState, written: string, value: string, line: number): void {
    const keys = sectionSpec(section.id).keys
    const name = findKey(keys, written)
    if (name === undefined) {
      const guess = Object.keys(keys).find((known) => squeeze(known) === squeeze(written))
      const hint = guess === undefined ? 'see docs/config-reference.md for the keys of this section' : `did you mean ${guess}?`
      this.error(this.file, line, `unknown key "${written}" in ${section.title}: ${hint}`)
      return
    }

    const spec = keys[name]
    const earlier = section.keys.get(name)
    if (earlier !== undefined && spec.repeatable !== true) {
      this.error(this.file, line, `duplicate key ${name} in ${section.title} (first set on line ${earlier.line}): ${name} may appear only once`)
      return
    }
    const state: KeyState = earlier ?? { name, spec, items: [], line, lastLine: line }
    state.lastLine = line
    section.keys.set(name, state)

    const at: ValueSource = { file: this.file, line }
    if (value.startsWith('file:')) {
      this.readListFile(section, state, value.slice('file:'.length).trim(), at)
      return
    }
    this.readValue(section, state, value, at)
  }

  private readListFile(section: SectionState, state: KeyState, written: string, at: ValueSource): void {
    const where = `${state.name} in ${section.title}`
    if (!isListKey(state.spec)) {
      this.error(at.file, at.line, `file: lists are allowed only for keys that take several values; ${where} takes one value`)
      return
    }
    if (written === '') {
      this.error(at.file, at.line, `missing path after file: for ${where}`)
      return
    }

    const listFile = isAbsolute(written) ? written : join(this.listBase, written)
    let text: string
    try {
      text = readFileSync(listFile, 'utf8')
    } catch (err) {
      this.error(at.file, at.line, `cannot read list file "${listFile}" for ${where}: ${describeReadError(err)}`)
      return
    }

    text.split(/\r?\n/).forEach((raw, index) => {
      const item = raw.trim()
      if (item === '' || item.startsWith('#')) return
      const source = { file: listFile, line: index + 1 }
      if (item.startsWith('file:')) {
        this.error(source.file, source.line, `list files cannot include other list files ("${listValueExcerpt(item)}")`)
        return
      }
      this.readValue(section, state, item, source, listValueExcerpt)
    })
  }

  /** Reads one value; `displayToken` formats an invalid token for the error message. */
  private readValue(section: SectionState, state: KeyState, value: string, at: ValueSource, displayToken = (token: string) => token): void {
    const where = `${state.name} in ${section.title}`
    if (value === '') {
      if (state.spec.allowEmpty !== true) this.error(at.file, at.line, `empty value for ${where}: set a value or remove the line`)
      return
    }

    const parsed = parseValueText(state.spec, value, at)
    state.items.push(...parsed.items)
    for (const bad of parsed.invalid) {
      this.error(at.file, at.line, `invalid value "${displayToken(bad.token)}" for ${where}: ${bad.expected}`)
    }
  }
}

/** Parses mailgw.conf text; `file` names it in errors and anchors relative list-file paths. */
export function parseConfig(text: string, file: string): ParseResult {
  const parser = new FileParser(file, dirname(file))
  parser.run(text)

  const parsed: ParsedFile = { file, sections: parser.sections, errors: parser.errors }
  const config = assembleConfig(parsed, resolve(file))
  const errors = parsed.errors
  return errors.length === 0 ? { config, errors } : { config: null, errors }
}

/** Reads and parses a mailgw.conf file; an unreadable file is one error at line 1. */
export function loadConfig(file: string): ParseResult {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    return { config: null, errors: [{ file, line: 1, message: `cannot read the configuration file: ${describeReadError(err)}` }] }
  }
  return parseConfig(text, file)
}

export function formatConfigError(error: ConfigError): string {
  return `${error.file}:${error.line}: ${error.message}`
}
