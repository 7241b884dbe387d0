// The gateway rows: `mailgw start` on a mailgw.conf written for the row, delivering to the sink.
// Every gateway row has access rules and two groups, one per recipient, so every message becomes
// two copies. The clamd row adds per-object scanning. The full-policy row adds anti-spam with DNS
// checks against the benchmark's loopback DNS server. A row runs only when every
// configuration key it relies on is in effect in this build (status "active" in the schema), so
// a row is skipped with the key named, never run with a feature silently off.

import { execFile } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { bundledDatabaseDir } from '../../src/av/clamd-service'
import { DEFAULT_PLUGINS } from '../../src/launcher/haraka-instance'
import { sectionSpec, type SectionId } from '../../src/config/schema'
import { freePort } from '../../test/helpers/smtp'
import { startListening } from './haraka-process'
import type { Row, SharedServices } from './types'

const execFileAsync = promisify(execFile)

export interface GatewayRowSpec {
  id: string
  title: string
  clamd: boolean
  antispam: boolean
  /** False runs the gateway without mailgw_fastpath, with Haraka's stock outbound sockets. */
  fastpath: boolean
}

/** Keys as [section, key]; `group` is the [mailgw.group:NAME] section. */
type KeyRef = [SectionId | 'group', string]

function requiredKeys(spec: GatewayRowSpec): KeyRef[] {
  const keys: KeyRef[] = [['network', 'ProtectedDomains'], ['access', 'RelayRule'], ['access', 'ConnectRule'],
    ['group', 'Recipients'], ['limits', 'MaximalIncomingSessionsPerIP']]
  if (spec.clamd) keys.push(['antivirus', 'ClamdSocket'], ['policy', 'CheckAV'])
  if (spec.antispam) keys.push(['policy', 'CheckSpam'], ['antispam', 'SpamEngine'], ['resolve', 'Nameserver'],
    ['policy', 'SpamUseDNS'], ['access', 'DNSBlackList'])
  return keys
}

function inactiveKeys(spec: GatewayRowSpec): string[] {
  const out: string[] = []
  for (const [section, key] of requiredKeys(spec)) {
    const status = (sectionSpec(section).keys as Record<string, { status: string } | undefined>)[key]?.status ?? 'missing'
    if (status !== 'active') out.push(`${key} (${status})`)
  }
  return out
}

/** Writes the row's mailgw.conf. */
export function gatewayConf(spec: GatewayRowSpec, services: SharedServices, port: number, workers: number): string {
  const lines = [
    '# Written by bench/rows/gateway.ts for one benchmark row.',
    '[mailgw.network]',
    `ListenOn=127.0.0.1:${port}`,
    'Hostname=gw.bench.example',
    'Postmaster=postmaster@bench.example',
    'ProtectedDomains=bench.example',
    'Network=loopback 127.0.0.0/8',
    '',
    '[mailgw.access]',
    'ConnectRule=accept for network loopback',
    'RelayRule=accept from network loopback to *@bench.example',
  ]
  if (spec.antispam) lines.push('DNSBlackList=bl.bench.example')
  lines.push(
    '',
    '[mailgw.forward]',
    `ForwardRoute=* [127.0.0.1:${services.sinkPort}]`,
    '',
    '[mailgw.limits]',
    'IncomingSessions=1000',
    'MaximalIncomingSessionsPerIP=1000',
    // Haraka's outbound concurrency is per process; 100 each, as in the stock Haraka row.
    `OutgoingSessions=${100 * Math.max(1, workers)}`,
    'MaximalIncomingMessageSize=102400',
    'MaximalIncomingSessionSize=102400',
    '',
    '[mailgw.options]',
    `Workers=${workers}`,
    'QueuePath=var/queue',
  )
  if (spec.clamd) {
    lines.push('', '[mailgw.antivirus]', `ClamdSocket=${services.clamd?.address ?? ''}`, `ClamdDatabaseDirectory=${bundledDatabaseDir()}`)
  }
  if (spec.antispam) {
    const engine = services.rspamd ? ['SpamEngine=rspamd', `RspamdUrl=${services.rspamd.url}`] : ['SpamEngine=builtin']
    lines.push('', '[mailgw.antispam]', ...engine, 'UriBlackList=uribl.bench.example')
    lines.push('', '[mailgw.resolve]', `Nameserver=127.0.0.1:${services.dnsPort}`)
  }
  lines.push(
    '',
    '[mailgw.policy]',
    `CheckAV=${spec.clamd}`,
    `CheckSpam=${spec.antispam}`,
  )
  if (spec.antispam) lines.push('SpamUseDNS=true')
  lines.push('', '[mailgw.group:first]', 'Recipients=1*@bench.example', '', '[mailgw.group:second]', 'Recipients=2*@bench.example', '')
  return lines.join('\n')
}

export function gatewayRow(spec: GatewayRowSpec): Row {
  return {
    id: spec.id,
    title: spec.title,
    usesWorkers: true,
    copies: 2,
    loadFactor: 1,

    async unavailable(services) {
      const inactive = inactiveKeys(spec)
      if (inactive.length > 0) return `configuration keys not in effect in this build: ${inactive.join(', ')}`
      if (spec.clamd && !services.clamd) return 'clamd could not be started (see the note at the top of the output)'
      if (spec.antispam && services.dnsPort === null) return 'the loopback DNS server could not be started'
      return null
    },

    async start(services, workers) {
      const port = await freePort()
      const dir = path.join(services.workDir, spec.id)
      const configDir = path.join(dir, 'config')
      mkdirSync(configDir, { recursive: true })
      const confPath = path.join(configDir, 'mailgw.conf')
      writeFileSync(confPath, gatewayConf(spec, services, port, workers))
      writeFileSync(path.join(configDir, 'log.ini'), '; the same level as the stock Haraka row\n[main]\nlevel=warn\nformat=default\n')
      writeFileSync(path.join(configDir, 'dhparams.pem'), services.dhparams)
      if (!spec.fastpath) {
        writeFileSync(path.join(configDir, 'plugins'), DEFAULT_PLUGINS.filter((p) => p !== 'mailgw_fastpath').join('\n') + '\n')
      }

      const mailgw = path.join(services.packageRoot, 'bin', 'mailgw')
      try {
        await execFileAsync(process.execPath, [mailgw, 'check-config', '-c', confPath], { timeout: 30000 })
      } catch (err) {
        const e = err as { stdout?: string; stderr?: string; message: string }
        throw new Error(`mailgw check-config rejected the row's configuration:\n${e.stdout ?? ''}${e.stderr ?? e.message}`, { cause: err })
      }

      const gateway = await startListening(process.execPath, [mailgw, 'start', '-c', confPath, '--run-dir', path.join(dir, 'run')],
        port, path.join(services.workDir, `${spec.id}.log`))
      return {
        port,
        // The Haraka processes; the mailgw launcher only waits for them.
        components: [
          { name: 'haraka', pids: () => gateway.descendants() },
          ...(spec.clamd && services.clamd ? [{ name: 'clamd', pids: () => [services.clamd?.pid ?? 0] }] : []),
          ...(spec.antispam && services.rspamd ? [{ name: 'rspamd', pids: () => [services.rspamd?.pid ?? 0] }] : []),
        ],
        stop: () => gateway.stop(),
      }
    },
  }
}

export const gatewayRows: Row[] = [
  gatewayRow({ id: 'gw-stock-sockets', title: 'gateway, rules + 2 groups, stock outbound sockets', clamd: false, antispam: false, fastpath: false }),
  gatewayRow({ id: 'gw-rules', title: 'gateway, rules + 2 groups', clamd: false, antispam: false, fastpath: true }),
  gatewayRow({ id: 'gw-clamd', title: 'gateway, rules + 2 groups + clamd per object', clamd: true, antispam: false, fastpath: true }),
  gatewayRow({ id: 'gw-full', title: 'gateway, full policy (rules, 2 groups, anti-spam + DNS + rspamd when installed, clamd)', clamd: true, antispam: true, fastpath: true }),
]

