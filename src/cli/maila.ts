// `mailgw maila`: the quarantine and archive manager. It lists, shows, sends and removes the
// entries of message stores (quarantine and archive directories of `<id>.eml` + `<id>.json`).
//
// Store: --archive-path=DIR names one store. Without it, --show-all, --show-id, --send-id,
// --send-id-without-check and --remove-id use every store named in mailgw.conf (the quarantine
// paths of the policy and the groups, and the two archives); --send-all, --remove-all and
// --purge-older-than act on whole stores and need --archive-path.
// Sending: --send-id and --send-all submit the stored message over SMTP to the gateway's first
// ListenOn address, with its original envelope, so it is checked again like new mail.
// --send-id-without-check delivers it straight to the next hops of ForwardRoute, past every check.
// Each send is recorded in the entry's metadata (when, by which Unix user, with or without checks).
// Exit status: 0 done, 1 invalid arguments, 2 store directory unreadable, 3 system error,
// 4 action not performed (no such id, delivery refused).

import { existsSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { purgeOlderThan } from '../archive/retention'
import { formatConfigError, loadConfig, type MailgwConfig } from '../config'
import { MessageStore, type StoredMetadata } from '../store/message-store'
import { isValidId } from '../store/ids'
import { parseArgs, UsageError } from './args'
import { escapeControls, headerBlockOf, listLine, showLines, totalLine, type MailaMetadata, type ReleaseRecord } from './maila-format'
import { Progress } from './maila-progress'
import { deliverByRoute, sendOverSmtp } from './maila-smtp'
import type { Io } from './main'
import { defaultConfigFile } from './paths'

export const EXIT = { done: 0, usage: 1, unreadable: 2, system: 3, notPerformed: 4 } as const

const ID_OPTIONS = ['--show-id', '--send-id', '--send-id-without-check', '--remove-id'] as const
const VALUE_OPTIONS = ['--archive-path', ...ID_OPTIONS, '--purge-older-than']
const BOOL_OPTIONS = ['--show-all', '--send-all', '--remove-all', '-h', '--help']
const ACTIONS = ['--show-all', '--send-all', '--remove-all', '--purge-older-than', ...ID_OPTIONS]

const USAGE = [
  'usage: mailgw maila [-c FILE] [--archive-path=DIR] ACTION',
  'actions:',
  '  --show-all                    list the messages: ID STATUS SIZE DATE IP <SENDER> -> <RECIPIENT>',
  '  --show-id=ID                  print the metadata and header fields of one message',
  '  --send-id=ID                  send one message to its recipients through the gateway (checked again)',
  '  --send-all                    send every message of the store through the gateway',
  '  --send-id-without-check=ID    deliver one message to its recipients past every check',
  '  --remove-id=ID                remove one message',
  '  --remove-all                  remove every message of the store',
  '  --purge-older-than=DAYS       remove the messages that arrived more than DAYS days ago',
  '--archive-path=DIR names the store; without it the stores named in mailgw.conf are searched.',
  '--send-all, --remove-all and --purge-older-than need --archive-path.',
  'Exit status: 0 done, 1 invalid arguments, 2 store unreadable, 3 system error, 4 action not performed.',
].join('\n')

class MailaError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message)
  }
}

export interface MailaOptions {
  now?: () => Date
  user?: () => string
  progressStream?: { isTTY?: boolean; write(text: string): unknown }
}

export async function runMaila(args: string[], io: Io, options: MailaOptions = {}): Promise<number> {
  try {
    return await maila(args, io, options)
  } catch (err) {
    if (err instanceof MailaError) {
      io.err(`mailgw maila: ${err.message}`)
      return err.exitCode
    }
    io.err(`mailgw maila: ${(err as Error).message}`)
    return EXIT.system
  }
}

async function maila(args: string[], io: Io, options: MailaOptions): Promise<number> {
  let parsed
  try {
    parsed = parseArgs(args, VALUE_OPTIONS, BOOL_OPTIONS)
  } catch (err) {
    if (err instanceof UsageError) throw new MailaError(EXIT.usage, `${err.message}\n${USAGE}`)
    throw err
  }
  if (parsed.flags.has('-h') || parsed.flags.has('--help')) {
    io.out(USAGE)
    return EXIT.done
  }
  if (parsed.positional.length > 0) throw new MailaError(EXIT.usage, `unexpected argument ${parsed.positional[0]}\n${USAGE}`)

  const actions = ACTIONS.filter((a) => parsed.flags.has(a))
  if (actions.length !== 1) throw new MailaError(EXIT.usage, `give exactly one action (${actions.length === 0 ? 'none given' : actions.join(', ')})\n${USAGE}`)
  const action = actions[0]
  const value = parsed.flags.get(action)

  // The id is checked before any path is built from it.
  if ((ID_OPTIONS as readonly string[]).includes(action) && (typeof value !== 'string' || !isValidId(value))) {
    throw new MailaError(EXIT.usage, `invalid id ${JSON.stringify(value)}: an id is 8 to 40 letters and digits`)
  }
  const archivePath = parsed.flags.get('--archive-path')
  if (archivePath === '' || archivePath === true) throw new MailaError(EXIT.usage, '--archive-path needs a directory')
  if (['--send-all', '--remove-all', '--purge-older-than'].includes(action) && archivePath === undefined) {
    throw new MailaError(EXIT.usage, `${action} acts on a whole store and needs --archive-path=DIR`)
  }

  const context = new Context(parsed.config, typeof archivePath === 'string' ? path.resolve(archivePath) : null, io, options)
  switch (action) {
    case '--show-all':
      return context.showAll()
    case '--show-id':
      return context.showId(value as string)
    case '--send-id':
      return context.sendId(value as string, true)
    case '--send-id-without-check':
      return context.sendId(value as string, false)
    case '--send-all':
      return context.sendAll()
    case '--remove-id':
      return context.removeId(value as string)
    case '--remove-all':
      return context.removeAll()
    case '--purge-older-than':
      return context.purge(value as string)
  }
  throw new MailaError(EXIT.usage, `unknown action ${action}`)
}

class Context {
  private config: MailgwConfig | null = null

  constructor(
    private readonly configFile: string | undefined,
    private readonly archivePath: string | null,
    private readonly io: Io,
    private readonly options: MailaOptions,
  ) {}

  async showAll(): Promise<number> {
    let count = 0
    let bytes = 0
    for (const dir of this.stores()) {
      for (const entry of await listStore(dir, this.archivePath !== null)) {
        this.io.out(listLine(entry))
        count++
        bytes += entry.size
      }
    }
    this.io.out(totalLine(count, bytes))
    return EXIT.done
  }

  async showId(id: string): Promise<number> {
    const { dir, store } = this.find(id)
    const { metadata, content } = await store.read(id)
    for (const line of showLines(dir, metadata as MailaMetadata, headerBlockOf(content))) this.io.out(line)
    return EXIT.done
  }

  async sendId(id: string, checked: boolean): Promise<number> {
    const { store } = this.find(id)
    const result = await this.send(store, id, checked)
    this.io.out(escapeControls(result.line))
    return result.ok ? EXIT.done : EXIT.notPerformed
  }

  async sendAll(): Promise<number> {
    const dir = this.stores()[0]
    const store = new MessageStore(dir)
    const entries = await listStore(dir, true)
    const progress = new Progress('sending', entries.length, this.options.progressStream)
    let failed = 0
    for (const [index, entry] of entries.entries()) {
      const result = await this.send(store, entry.id, true)
      this.io.out(escapeControls(result.line))
      if (!result.ok) failed++
      progress.update(index + 1)
    }
    progress.end()
    this.io.out(`Total: ${entries.length - failed} of ${entries.length} archived messages sent.`)
    return failed === 0 ? EXIT.done : EXIT.notPerformed
  }

  async removeId(id: string): Promise<number> {
    const { store } = this.find(id)
    await store.remove(id)
    this.io.out(`Removed ${id}.`)
    return EXIT.done
  }

  async removeAll(): Promise<number> {
    const dir = this.stores()[0]
    const store = new MessageStore(dir)
    const entries = await listStore(dir, true)
    const progress = new Progress('removing', entries.length, this.options.progressStream)
    let bytes = 0
    for (const [index, entry] of entries.entries()) {
      await store.remove(entry.id)
      bytes += entry.size
      progress.update(index + 1)
    }
    progress.end()
    this.io.out(`Removed ${entries.length} archived messages, ${bytes} bytes.`)
    return EXIT.done
  }

  async purge(daysText: string): Promise<number> {
    if (!/^\d+$/.test(daysText)) throw new MailaError(EXIT.usage, `invalid number of days ${JSON.stringify(daysText)}: expected a whole number such as 30`)
    const days = Number(daysText)
    const dir = this.stores()[0]
    const store = new MessageStore(dir)
    await listStore(dir, true)
    let progress: Progress | null = null
    const result = await purgeOlderThan(store, days, this.now(), (done, total) => {
      progress ??= new Progress('purging', total, this.options.progressStream)
      progress.update(done)
    })
    ;(progress as Progress | null)?.end()
    this.io.out(`Removed ${result.removed} archived messages older than ${days} days, ${result.bytes} bytes.`)
    return EXIT.done
  }

  private async send(store: MessageStore, id: string, checked: boolean): Promise<{ ok: boolean; line: string }> {
    const { metadata, content } = await store.read(id)
    const config = this.loadConfig()
    const envelope = { from: metadata.envelope.from, to: metadata.envelope.to }
    const helo = config.network.Hostname
    let reply: string
    if (checked) {
      const listen = config.network.ListenOn[0]
      const host = connectAddress(listen.host)
      try {
        reply = await sendOverSmtp({ host, port: listen.port }, envelope, content, helo)
      } catch (err) {
        return { ok: false, line: `${id}: not sent: the gateway at ${host}:${listen.port} rejected it: ${(err as Error).message}` }
      }
    } else {
      const deliveries = await deliverByRoute(config.forward.ForwardRoute, envelope, content, helo)
      const failures = deliveries.filter((d) => d.error !== undefined)
      if (failures.length === deliveries.length) {
        return { ok: false, line: `${id}: not sent: ${failures.map((f) => `${f.route}: ${f.error}`).join('; ')}` }
      }
      reply = deliveries.map((d) => `${d.route}: ${d.error ?? d.reply}`).join('; ')
      envelope.to = deliveries.filter((d) => d.error === undefined).flatMap((d) => d.recipients)
      if (failures.length > 0) {
        await this.recordRelease(store, metadata, { checked, to: envelope.to, reply })
        return { ok: false, line: `${id}: sent to part of the recipients only: ${reply}` }
      }
    }
    await this.recordRelease(store, metadata, { checked, to: envelope.to, reply })
    return { ok: true, line: `${id}: sent ${checked ? 'through the gateway' : 'without checks'} to ${envelope.to.map((a) => `<${a}>`).join(', ')}: ${reply}` }
  }

  private async recordRelease(store: MessageStore, metadata: StoredMetadata, release: Pick<ReleaseRecord, 'checked' | 'to' | 'reply'>): Promise<void> {
    const record: ReleaseRecord = { at: this.now().toISOString(), by: this.user(), ...release }
    const updated: MailaMetadata = { ...(metadata as MailaMetadata) }
    updated.released = [...(updated.released ?? []), record]
    await store.updateMetadata(updated)
  }

  private find(id: string): { dir: string; store: MessageStore } {
    for (const dir of this.stores()) {
      if (existsSync(path.join(dir, `${id}.json`)) && existsSync(path.join(dir, `${id}.eml`))) return { dir, store: new MessageStore(dir) }
    }
    if (this.archivePath !== null && !existsSync(this.archivePath)) {
      throw new MailaError(EXIT.unreadable, `cannot read store ${this.archivePath}: no such directory`)
    }
    throw new MailaError(EXIT.notPerformed, `no message ${id} in ${this.stores().join(', ') || 'any store'}`)
  }

  private stores(): string[] {
    if (this.archivePath !== null) return [this.archivePath]
    const config = this.loadConfig()
    const dirs: (string | undefined)[] = [config.policy, ...config.groups.map((g) => g.settings)].flatMap((s) => [s.AVQuarantinePath, s.ASQuarantinePath])
    dirs.push(config.archive.IncomingArchivePath, config.archive.OutgoingArchivePath)
    return [...new Set(dirs.filter((d): d is string => typeof d === 'string' && d !== ''))]
  }

  private loadConfig(): MailgwConfig {
    if (this.config) return this.config
    const file = this.configFile ?? defaultConfigFile()
    const { config, errors } = loadConfig(file)
    if (!config || errors.length > 0) {
      throw new MailaError(EXIT.usage, `${file} is invalid:\n${errors.map(formatConfigError).join('\n')}`)
    }
    this.config = config
    return config
  }

  private now(): Date {
    return this.options.now?.() ?? new Date()
  }

  private user(): string {
    if (this.options.user) return this.options.user()
    const name = os.userInfo().username
    const sudo = process.env.SUDO_USER
    return sudo && sudo !== name ? `${name} (sudo by ${sudo})` : name
  }
}

/** Returns the address to connect to for a ListenOn host: loopback for a wildcard address. */
function connectAddress(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1'
  if (host === '::') return '::1'
  return host
}

/**
 * Lists a store. A store named with --archive-path must be readable (exit 2 otherwise); a store
 * from mailgw.conf that does not exist yet has no messages.
 */
async function listStore(dir: string, required: boolean): Promise<StoredMetadata[]> {
  try {
    return await new MessageStore(dir).list()
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (!required && code === 'ENOENT') return []
    if (code === 'ENOENT' || code === 'EACCES' || code === 'ENOTDIR' || code === 'EPERM') {
      throw new MailaError(EXIT.unreadable, `cannot read store ${dir}: ${(err as Error).message}`)
    }
    throw err
  }
}
