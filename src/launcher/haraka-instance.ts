// Builds the Haraka instance directory that `mailgw start` runs: the administrator's Haraka files
// from the directory of mailgw.conf, with the settings that mailgw.conf owns written over them
// (listen addresses, host name, workers, size and hop limits, the retry schedule, the queue
// directory, the DSN text). Haraka then reads ordinary files, so what it runs with can be
// inspected under the run directory. The instance is rebuilt at every start.

import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { MailgwConfig } from '../config'
import { formatSchedule, retrySchedule } from '../queue/backoff'
import { renderBounceMessage } from './bounce'
import { setIniValues } from './ini-edit'

/** Files that mailgw.conf owns; an administrator's copy in the config directory is overridden. */
export const GENERATED_FILES = [
  'smtp.ini',
  'me',
  'connection.ini',
  'outbound.ini',
  'queue_dir',
  'xclient.hosts',
  'outbound.bounce_message',
  'plugins',
] as const

export function formatListen(hp: { host: string; port: number }): string {
  return hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`
}

/**
 * Computes the content of each generated Haraka file. `existing` holds the administrator's
 * version of a file when there is one, so keys that mailgw.conf does not own are kept.
 */
export function harakaFiles(config: MailgwConfig, existing: Record<string, string>): Record<string, string> {
  const { network, limits, timeouts, options } = config
  const files: Record<string, string> = {}

  files['smtp.ini'] = setIniValues(existing['smtp.ini'] ?? '', 'main', {
    listen: network.ListenOn.map(formatListen).join(','),
    nodes: options.Workers,
  })

  files['me'] = `${network.Hostname}\n`

  let connection = setIniValues(existing['connection.ini'] ?? '', 'max', {
    bytes: limits.MaximalIncomingMessageSize,
  })
  connection = setIniValues(connection, 'headers', { max_received: limits.MaximalIncomingHops })
  files['connection.ini'] = connection

  const schedule = retrySchedule({
    minimalBackoff: timeouts.MinimalBackoffTime,
    maximalBackoff: timeouts.MaximalBackoffTime,
    queueLifetime: timeouts.MaximalQueueLifetime,
  })
  files['outbound.ini'] = setIniValues(existing['outbound.ini'] ?? '', 'main', {
    temp_fail_intervals: formatSchedule(schedule),
  })

  files['queue_dir'] = `${resolveBasePath(config, options.QueuePath)}\n`
  files['outbound.bounce_message'] = renderBounceMessage(network.Postmaster)
  files['plugins'] = pluginList(existing['plugins'], options.Xclient)
  files['xclient.hosts'] = options.Xclient ? '127.0.0.1\n::1\n' : ''
  return files
}

/** The default plugin list: our plugins only, in the order their hooks must run. */
export const DEFAULT_PLUGINS = ['mailgw_access', 'mailgw_policy', 'mailgw_route']

function pluginList(existing: string | undefined, xclient: boolean): string {
  const lines = (existing ?? DEFAULT_PLUGINS.join('\n')).split(/\r?\n/)
  const names = lines.map((l) => l.replace(/#.*/, '').trim()).filter(Boolean)
  const withoutXclient = lines.filter((l) => l.replace(/#.*/, '').trim() !== 'xclient')

  // XCLIENT lets a client claim any address, so it is only enabled where mailgw.conf says so,
  // whatever the administrator's plugins file contains, and always first so later hooks see the
  // claimed address.
  if (xclient) return ['xclient', ...withoutXclient].join('\n').replace(/\n*$/, '\n')
  if (names.includes('xclient')) return withoutXclient.join('\n').replace(/\n*$/, '\n')
  return lines.join('\n').replace(/\n*$/, '\n')
}

/**
 * Resolves a path from mailgw.conf. Relative paths are relative to the instance directory, the
 * parent of the directory that holds mailgw.conf, as Haraka's own `-c` directory is.
 */
export function resolveBasePath(config: Pick<MailgwConfig, 'dir'>, p: string): string {
  return path.resolve(path.dirname(config.dir), p)
}

export interface InstanceOptions {
  /** Directory to build; replaced on every start. */
  runDir: string
  /** The package's plugins/ directory, linked into the instance. */
  pluginsDir: string
}

export async function writeHarakaInstance(config: MailgwConfig, opts: InstanceOptions): Promise<void> {
  const configOut = path.join(opts.runDir, 'config')
  await fs.rm(configOut, { recursive: true, force: true })
  await fs.mkdir(configOut, { recursive: true })

  const existing: Record<string, string> = {}
  for (const entry of await fs.readdir(config.dir, { withFileTypes: true })) {
    if (!entry.isFile() || entry.name === path.basename(config.file)) continue
    const text = await fs.readFile(path.join(config.dir, entry.name), 'utf8')
    if ((GENERATED_FILES as readonly string[]).includes(entry.name)) existing[entry.name] = text
    else await fs.writeFile(path.join(configOut, entry.name), text)
  }

  for (const [name, content] of Object.entries(harakaFiles(config, existing))) {
    await fs.writeFile(path.join(configOut, name), content)
  }

  await fs.mkdir(resolveBasePath(config, config.options.QueuePath), { recursive: true })

  const link = path.join(opts.runDir, 'plugins')
  await fs.rm(link, { recursive: true, force: true })
  await fs.symlink(opts.pluginsDir, link, 'dir')
}
