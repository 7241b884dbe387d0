// Line reader for the KMG-style INI format: `[section]` headers, `Key=value` lines, `#` and `;`
// comment lines, blank lines. A `#` or `;` starts a comment only as the first character of a line
// (after optional whitespace), so values may contain them. Keys may repeat; what a repeat means
// is decided by the schema, not here.

export interface IniEntry {
  key: string
  value: string
  line: number
}

export interface IniSection {
  /** Text between the brackets, trimmed. */
  name: string
  line: number
  entries: IniEntry[]
}

export interface IniProblem {
  line: number
  message: string
}

export interface IniDocument {
  sections: IniSection[]
  problems: IniProblem[]
}

/** Splits the text into sections of entries; malformed lines become problems and are skipped. */
export function readIni(text: string): IniDocument {
  const sections: IniSection[] = []
  const problems: IniProblem[] = []
  let current: IniSection | null = null

  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/)
  lines.forEach((raw, index) => {
    const line = index + 1
    const trimmed = raw.trim()
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) return

    if (trimmed.startsWith('[')) {
      if (!trimmed.endsWith(']')) {
        problems.push({ line, message: `invalid section header "${trimmed}": expected [NAME]` })
        // Keys below a broken header belong to no known section; drop them without more errors.
        current = { name: '', line, entries: [] }
        return
      }
      current = { name: trimmed.slice(1, -1).trim(), line, entries: [] }
      sections.push(current)
      return
    }

    const eq = trimmed.indexOf('=')
    if (eq <= 0) {
      problems.push({ line, message: `invalid line "${trimmed}": expected Key=value, a [section] header or a # comment` })
      return
    }
    if (current === null) {
      problems.push({ line, message: `key "${trimmed.slice(0, eq).trim()}" is outside any section: put it below a [section] header` })
      return
    }
    current.entries.push({ key: trimmed.slice(0, eq).trim(), value: trimmed.slice(eq + 1).trim(), line })
  })

  return { sections, problems }
}
