// Minimal edits of Haraka's own INI files: set keys in a section and keep every other line of the
// administrator's file as written. Haraka's files are simple (no continuation lines), so a line
// scan is enough.

export function setIniValues(text: string, section: string, values: Record<string, string | number>): string {
  const lines = text.length > 0 ? text.replace(/\r\n/g, '\n').replace(/\n$/, '').split('\n') : []
  const pending = new Map(Object.entries(values).map(([k, v]) => [k, String(v)]))
  const out: string[] = []
  // Keys before the first header belong to [main] in Haraka's ini parser.
  let current = 'main'

  const flush = () => {
    for (const [k, v] of pending) out.push(`${k}=${v}`)
    pending.clear()
  }

  for (const line of lines) {
    const header = /^\s*\[([^\]]+)\]\s*$/.exec(line)
    if (header) {
      const name = header[1].trim()
      if (current === section && name !== section) flush()
      current = name
      out.push(line)
      continue
    }
    const kv = /^\s*([^=;#\s]+)\s*=/.exec(line)
    if (kv && current === section && pending.has(kv[1])) {
      out.push(`${kv[1]}=${pending.get(kv[1])}`)
      pending.delete(kv[1])
      continue
    }
    out.push(line)
  }

  if (pending.size > 0) {
    // A repeated header is fine: Haraka's parser merges the keys of sections with one name.
    if (current !== section) out.push(`[${section}]`)
    flush()
  }
  return out.join('\n').replace(/\n*$/, '\n')
}
