// Builds the Haraka instance directory that `mailgw start` runs. It contains the administrator's
// Haraka files from the directory of mailgw.conf, and the settings that mailgw.conf owns are
// written over them: listen addresses, host name, workers, limits, the retry schedule, the queue
// directory and the DSN text. Haraka then reads ordinary files, so what it runs with can be
// inspected under the run directory. The instance is rebuilt at every start.

import { execFile } from 'node:child_process'
import { promises as fs } from 'node:fs'
import { promisify } from 'node:util'
import path from 'node:path'
import type { MailgwConfig } from '../config'
import { formatSchedule, retrySchedule } from '../queue/backoff'
import { renderBounceMessage } from './bounce'
import { setIniValues } from './ini-edit'
import { karmaFiles, withKarma } from './karma'
import { privateRedisSocket } from './redis-service'

const execFileAsync = promisify(execFile)

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
  'log.ini',
  'mailgw_policy.timeout',
  'karma.ini',
  'redis.ini',
] as const

export const POLICY_TIMEOUT_SECONDS = 540

/** Generated INI files whose Haraka defaults are kept under our keys. */
const INI_DEFAULTS: readonly string[] = ['smtp.ini', 'connection.ini', 'outbound.ini', 'log.ini']

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
    // The access plugin narrows this per SMTP stage (data initiation, data termination).
    inactivity_timeout: timeouts.ReceivingCommandTimeout,
  })

  files['me'] = `${network.Hostname}\n`

  // The access plugin enforces MaximalIncomingMessageSize and MaximalIncomingHops itself, with
  // enhanced status codes that Haraka's own replies lack (552 5.3.4, 554 5.4.6), and advertises
  // SIZE. Haraka's limits are therefore off: bytes=0 means no limit, and a Received count above
  // the schema's maximum hop limit of 100 is left to the plugin.
  let connection = setIniValues(existing['connection.ini'] ?? '', 'max', { bytes: 0 })
  connection = setIniValues(connection, 'headers', { max_received: HARAKA_MAX_RECEIVED })
  // A message above SpoolAfter goes to disk while it is received, so a large message is held in
  // memory once, by the policy step, and not also by Haraka (whose own threshold is 25 MiB).
  connection = setIniValues(connection, 'main', {
    spool_dir: resolveBasePath(config, options.SpoolPath),
    spool_after: options.SpoolAfter,
  })
  files['connection.ini'] = connection

  const schedule = retrySchedule({
    minimalBackoff: timeouts.MinimalBackoffTime,
    maximalBackoff: timeouts.MaximalBackoffTime,
    queueLifetime: timeouts.MaximalQueueLifetime,
  })
  files['outbound.ini'] = setIniValues(existing['outbound.ini'] ?? '', 'main', {
    temp_fail_intervals: formatSchedule(schedule),
    concurrency_max: outboundConcurrency(limits.OutgoingSessions, options.Workers),
  })

  files['queue_dir'] = `${resolveBasePath(config, options.QueuePath)}\n`
  files['outbound.bounce_message'] = renderBounceMessage(network.Postmaster)
  files['plugins'] = pluginList(existing['plugins'], options.Xclient, config.antispam.Karma)
  if (config.antispam.Karma) {
    Object.assign(files, karmaFiles(config, existing, privateRedisSocket(resolveBasePath(config, '.'))))
  } else {
    // Without Karma=true these files belong to the administrator, e.g. for a karma of their own.
    for (const name of ['karma.ini', 'redis.ini']) if (existing[name] !== undefined) files[name] = existing[name]
  }
  files['xclient.hosts'] = options.Xclient ? '127.0.0.1\n::1\n' : ''

  // Haraka answers 4xx for a hook that runs past its timeout (30 s unless set) but lets the hook go
  // on. Scanning a large message can take longer, so the policy step gets up to 9 minutes: below the
  // 10 minutes a client waits for the reply to the final dot (RFC 5321 section 4.5.3.2.6).
  files['mailgw_policy.timeout'] = `${POLICY_TIMEOUT_SECONDS}\n`

  // Haraka warns at every start when log.ini names no format.
  const log = existing['log.ini'] ?? ''
  files['log.ini'] = /^\s*format\s*=/m.test(log) ? log : setIniValues(log, 'main', { format: 'default' })
  return files
}

/** Haraka's own Received limit, kept above every MaximalIncomingHops value the schema allows. */
const HARAKA_MAX_RECEIVED = 1000

/**
 * Haraka's outbound concurrency is per process, so OutgoingSessions is shared out among the
 * workers (rounded down, at least one each).
 */
export function outboundConcurrency(outgoingSessions: number, workers: number): number {
  return Math.max(1, Math.floor(outgoingSessions / Math.max(1, workers)))
}

/** The default plugin list: our plugins only, in the order their hooks must run. */
export const DEFAULT_PLUGINS = ['tls', 'mailgw_access', 'mailgw_archive', 'mailgw_policy', 'mailgw_route', 'mailgw_fastpath']

function pluginList(existing: string | undefined, xclient: boolean, karma: boolean): string {
  const given = (existing ?? DEFAULT_PLUGINS.join('\n')).split(/\r?\n/)
  const lines = karma ? withKarma(given) : given
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
  /** The package's plugins/ directory, whose folder plugins the instance loads. */
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

  // Haraka reads its own defaults only for files the instance lacks, so a generated file starts
  // from Haraka's shipped version (connection.ini's [message] section, for one, is required).
  const harakaDefaults = path.join(path.dirname(require.resolve('Haraka/package.json')), 'config')
  for (const name of GENERATED_FILES) {
    if (existing[name] !== undefined || !INI_DEFAULTS.includes(name)) continue
    existing[name] = await fs.readFile(path.join(harakaDefaults, name), 'utf8').catch(() => '')
  }

  for (const [name, content] of Object.entries(harakaFiles(config, existing))) {
    await fs.writeFile(path.join(configOut, name), content)
  }

  await withKey('QueuePath', () => fs.mkdir(resolveBasePath(config, config.options.QueuePath), { recursive: true }))
  await withKey('SpoolPath', () => clearSpool(resolveBasePath(config, config.options.SpoolPath)))
  await ensureTlsCertificate(configOut, config.network.Hostname)
  await ensureDhParams(configOut)

  await linkPlugins(opts.pluginsDir, path.join(opts.runDir, 'plugins'))
}

/** Runs a directory step and names the configuration key in its error. */
async function withKey<T>(key: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step()
  } catch (err) {
    throw new Error(`[mailgw.options] ${key}: ${(err as Error).message}`, { cause: err })
  }
}

/**
 * Creates the spool directory, or empties it of the files a previous run left when it stopped in
 * the middle of receiving: Haraka removes a transaction's spool file only when the transaction ends.
 */
async function clearSpool(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true })
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.eml')) await fs.rm(path.join(dir, entry.name), { force: true })
  }
}

/**
 * Creates a self-signed certificate for STARTTLS when the administrator provided none
 * (tls_key.pem and tls_cert.pem in the config directory), so that clients which offer TLS get it
 * and Haraka does not log a missing-key error at every start. Clients that verify certificates
 * need a real one.
 */
async function ensureTlsCertificate(configOut: string, hostname: string): Promise<void> {
  const key = path.join(configOut, 'tls_key.pem')
  const cert = path.join(configOut, 'tls_cert.pem')
  const present = await Promise.all([key, cert].map((f) => fs.access(f).then(() => true, () => false)))
  if (present.every(Boolean)) return

  const cn = hostname.replace(/[^A-Za-z0-9.-]/g, '')
  await execFileAsync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '3650',
    '-subj', `/CN=${cn}`, '-keyout', key, '-out', cert], { timeout: 30000 })
  await fs.chmod(key, 0o600)
}

/**
 * Writes the RFC 7919 ffdhe2048 group as dhparams.pem when the administrator provided none.
 * Without the file Haraka runs `openssl dhparam 2048` at every start, which can take minutes,
 * is killed after 30 s, and leaves the file empty for the next start to try again.
 */
async function ensureDhParams(configOut: string): Promise<void> {
  const file = path.join(configOut, 'dhparams.pem')
  const size = await fs.stat(file).then((s) => s.size, () => 0)
  if (size > 0) return
  await execFileAsync('openssl', ['genpkey', '-genparam', '-algorithm', 'DH', '-pkeyopt', 'group:ffdhe2048', '-out', file], { timeout: 30000 })
}

/**
 * Gives the instance one folder plugin per plugin of the package, each a package.json whose main
 * is the absolute path of the compiled plugin. A symlink to the package's plugins/ would not do,
 * because node resolves a relative `main` from the path it was asked for, not the link's target.
 */
async function linkPlugins(pluginsDir: string, target: string): Promise<void> {
  await fs.rm(target, { recursive: true, force: true })
  await fs.mkdir(target, { recursive: true })

  for (const entry of await fs.readdir(pluginsDir, { withFileTypes: true })) {
    const manifestPath = path.join(pluginsDir, entry.name, 'package.json')
    if (!entry.isDirectory()) continue
    let manifest: { name?: string; main?: string }
    try {
      manifest = JSON.parse(await fs.readFile(manifestPath, 'utf8'))
    } catch {
      continue
    }
    if (!manifest.main) continue
    const main = path.resolve(pluginsDir, entry.name, manifest.main)
    await fs.mkdir(path.join(target, entry.name))
    await fs.writeFile(path.join(target, entry.name, 'package.json'), JSON.stringify({ ...manifest, main }, null, 2))
  }
}
