// Builds the rule lists of [mailgw.access] and the named networks of [mailgw.network] from the
// parsed config, and collects every malformed rule and unknown network name as `FILE:LINE`
// errors. The config checker reports these errors, and the access plugin uses the compiled lists.

import type { ConfigError, NamedNetwork, RuleLine } from '../config/types'
import type { NetworkTable } from './evaluate'
import { parseIpRange, type IpRange } from './ip'
import { parseRule, type ClientRule, type HeloRule, type MailfromRule } from './rules'

export interface AccessRuleLines {
  ConnectRule: readonly RuleLine[]
  HeloRule: readonly RuleLine[]
  MailfromRule: readonly RuleLine[]
  RelayRule: readonly RuleLine[]
}

export interface CompiledAccess {
  connect: ClientRule[]
  helo: HeloRule[]
  mailfrom: MailfromRule[]
  relay: ClientRule[]
  /** Named networks by lower-case name (network names are case-insensitive). */
  networks: NetworkTable
  /** Whether any ConnectRule or RelayRule tests the client's reverse name. */
  needsReverseName: boolean
}

export function compileAccess(lines: AccessRuleLines, namedNetworks: readonly NamedNetwork[], baseDir: string): { access: CompiledAccess; errors: ConfigError[] } {
  const errors: ConfigError[] = []
  const networks = new Map<string, IpRange[]>()
  for (const network of namedNetworks) {
    networks.set(network.name.toLowerCase(), network.ranges.map((r) => parseIpRange(r)).filter((r): r is IpRange => r !== null))
  }

  const compileList = <R>(key: 'ConnectRule' | 'HeloRule' | 'MailfromRule' | 'RelayRule'): R[] => {
    const rules: R[] = []
    for (const line of lines[key]) {
      const parsed = parseRule(key, line, baseDir)
      if (!parsed.ok) {
        errors.push({ file: parsed.file, line: parsed.line, message: parsed.error })
        continue
      }
      rules.push(parsed.rule as R)
    }
    return rules
  }

  const connect = compileList<ClientRule>('ConnectRule')
  const relay = compileList<ClientRule>('RelayRule')
  const helo = compileList<HeloRule>('HeloRule')
  const mailfrom = compileList<MailfromRule>('MailfromRule')

  for (const rule of [...connect, ...relay]) {
    if (rule.subject.kind !== 'network') continue
    rule.subject.names = rule.subject.names.map((n) => n.toLowerCase())
    for (const name of rule.subject.names) {
      if (networks.has(name)) continue
      errors.push({
        file: rule.file,
        line: rule.line,
        message: `unknown network "${name}" in ${rule.key} "${rule.text}": define it with Network=${name} ADDRESS/BITS in [mailgw.network]`,
      })
    }
  }

  errors.sort((a, b) => (a.file === b.file ? a.line - b.line : a.file.localeCompare(b.file)))
  const needsReverseName = [...connect, ...relay].some((r) => r.subject.kind === 'host')
  return { access: { connect, helo, mailfrom, relay, networks, needsReverseName }, errors }
}
