// Process-wide state shared by the mailgw plugins: the parsed mailgw.conf (loaded once per Haraka
// process, master and workers alike) and the DNS servers it names. The file comes from
// MAILGW_CONFIG, which `mailgw start` sets, or from config/mailgw.conf of the Haraka instance
// directory when Haraka is run directly with `haraka -c DIR`. An invalid file throws from the
// first plugin's register(), which stops Haraka before it listens, with every error logged.

import dns from 'node:dns'
import path from 'node:path'
import { formatConfigError, loadConfig, type MailgwConfig } from '../../src/config'

let current: MailgwConfig | null = null

export function configPath(): string {
  if (process.env.MAILGW_CONFIG) return path.resolve(process.env.MAILGW_CONFIG)
  const instance = process.env.HARAKA ?? process.cwd()
  return path.join(instance, 'config', 'mailgw.conf')
}

export class InvalidConfigError extends Error {
  constructor(readonly lines: string[]) {
    super(`mailgw.conf is invalid:\n${lines.join('\n')}`)
  }
}

/** Returns the gateway configuration, loading and applying it on first use in this process. */
export function gatewayConfig(): MailgwConfig {
  if (current) return current

  const file = configPath()
  const { config, errors } = loadConfig(file)
  if (!config || errors.length > 0) throw new InvalidConfigError(errors.map(formatConfigError))

  applyNameservers(config)
  current = config
  return current
}

function applyNameservers(config: MailgwConfig): void {
  const servers = config.resolve.Nameserver.map((ns) =>
    ns.port === 53 ? ns.host : ns.host.includes(':') ? `[${ns.host}]:${ns.port}` : `${ns.host}:${ns.port}`,
  )
  if (servers.length === 0) return
  // Haraka's MX lookups and ours use node's global resolver, so setting it here points every
  // lookup of this process at the configured servers.
  dns.setServers(servers)
  dns.promises.setServers(servers)
}
