// One log line per policy decision, in one grammar, so that an administrator can grep a
// transaction id or a rule and see every reject, tempfail and accept in the same shape:
//   <id> <verdict> stage=<stage> rule=<Key>@<file>:<line> client=<ip> from=<addr> to=<addr> reason="..."
// Values with spaces, quotes or control characters are quoted with JSON escaping, so a hostile
// address can neither split the line nor forge another field.

export type DecisionVerdict = 'accept' | 'reject' | 'tempfail' | 'block' | 'deliver' | 'quarantine' | 'info'

export interface Decision {
  id: string
  verdict: DecisionVerdict
  stage: string
  fields: Record<string, string | number | boolean | undefined | null | readonly string[]>
}

export function formatDecision({ id, verdict, stage, fields }: Decision): string {
  const parts = [id, verdict, `stage=${stage}`]
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || value === null) continue
    const text = Array.isArray(value) ? value.join(',') : String(value)
    parts.push(`${key}=${quoteValue(text)}`)
  }
  return parts.join(' ')
}

function quoteValue(value: string): string {
  if (value !== '' && /^[\x21-\x7e]+$/.test(value) && !/["\\=]/.test(value)) return value
  return JSON.stringify(value)
}
