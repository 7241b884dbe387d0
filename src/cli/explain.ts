// `mailgw explain [-c FILE] --from ADDRESS --ip ADDRESS [--host NAME] RECIPIENT...` shows which group
// each recipient falls into and why the groups before it did not match. It then lists the copies the
// message would be split into and the rules of each copy, marked `group` when the group sets the
// key itself and `policy` when it inherits it. Nothing is sent and no DNS is queried, so --host
// gives the client's verified host name.
// Exit codes: 0 done, 1 invalid configuration, 2 bad arguments.

import { isIP } from 'node:net'

import { formatConfigError, loadConfig, type GroupConfig, type PolicyKey, type PolicySettings } from '../config'
import { GroupMatcher, type GroupChoice, type GroupTrial, type SenderContext } from '../groups/match'
import { parseArgs, UsageError } from './args'
import type { Io } from './main'
import { defaultConfigFile } from './paths'

/** The keys shown for every copy; any other key a group sets is shown too. */
const SHOWN_KEYS: readonly PolicyKey[] = [
  'CheckSpam',
  'CheckAV',
  'BlockMessage',
  'QuarantineMessage',
  'MarkSubject',
  'NotifyAdmin',
  'NotifyRecipient',
  'NotifySender',
  'ASQuarantinePath',
  'AVQuarantinePath',
]

export const EXPLAIN_USAGE = 'usage: mailgw explain [-c FILE] --from ADDRESS|<> --ip ADDRESS [--host NAME] RECIPIENT...'

export async function runExplain(args: string[], io: Io): Promise<number> {
  let request: { file: string; sender: SenderContext; recipients: string[] }
  try {
    request = parseRequest(args)
  } catch (err) {
    io.err(`mailgw explain: ${(err as Error).message}`)
    io.err(EXPLAIN_USAGE)
    return 2
  }

  const { config, errors } = loadConfig(request.file)
  if (!config || errors.length > 0) {
    for (const e of errors) io.err(formatConfigError(e))
    return 1
  }

  const matcher = new GroupMatcher(config)
  const { sender } = request
  io.out(`sender <${sender.mailFrom}> client ${sender.clientIp}${sender.clientHost ? ` host ${sender.clientHost}` : ''}`)

  const copies = new Map<string, { choice: GroupChoice; recipients: string[] }>()
  for (const recipient of request.recipients) {
    const { choice, trials } = matcher.explain(sender, recipient)
    io.out(`${recipient}: group ${choice.name}${choice.group ? ` (${choice.group.file}:${choice.group.line})` : ''}`)
    for (const trial of trials) if (trial.group !== choice.group) io.out(`  not ${trial.group.name}: ${whyNot(trial)}`)
    const copy = copies.get(choice.name) ?? { choice, recipients: [] }
    copy.recipients.push(recipient)
    copies.set(choice.name, copy)
  }

  io.out(`${copies.size} ${copies.size === 1 ? 'copy' : 'copies'}:`)
  let number = 1
  for (const { choice, recipients } of copies.values()) {
    io.out(`copy ${number++}: group ${choice.name}, recipients ${recipients.join(', ')}`)
    for (const line of ruleLines(choice.settings, choice.group)) io.out(`  ${line}`)
  }
  return 0
}

function parseRequest(args: string[]): { file: string; sender: SenderContext; recipients: string[] } {
  const parsed = parseArgs(args, ['--from', '--ip', '--host'])
  const from = parsed.flags.get('--from')
  const ip = parsed.flags.get('--ip')
  const host = parsed.flags.get('--host')
  if (typeof from !== 'string') throw new UsageError('--from is required (use --from "<>" for the null sender)')
  if (typeof ip !== 'string' || isIP(ip) === 0) throw new UsageError(`--ip needs the client's IP address, got ${JSON.stringify(ip ?? '')}`)
  if (parsed.positional.length === 0) throw new UsageError('name at least one recipient address')

  const mailFrom = from === '<>' || from === '' ? '' : from.replace(/^<(.*)>$/, '$1')
  return {
    file: parsed.config ?? defaultConfigFile(),
    sender: { mailFrom, clientIp: ip, clientHost: typeof host === 'string' && host !== '' ? host : null },
    recipients: parsed.positional.map((r) => r.replace(/^<(.*)>$/, '$1')),
  }
}

function whyNot(trial: GroupTrial): string {
  const reasons: string[] = []
  const senders = trial.group.Senders
  if (trial.sendersMatch === null) reasons.push(senders && senders.length === 0 ? 'Senders is empty' : 'no Senders value matches')
  if (trial.recipientsMatch === null) {
    const recipients = trial.group.Recipients
    reasons.push(recipients && recipients.length === 0 ? 'Recipients is empty' : 'no Recipients mask matches')
  }
  return reasons.join(', ')
}

function ruleLines(settings: PolicySettings, group: GroupConfig | null): string[] {
  const keys = [...SHOWN_KEYS]
  for (const key of group?.explicit ?? []) if (!keys.includes(key as PolicyKey)) keys.push(key as PolicyKey)
  return keys.map((key) => {
    const value = settings[key]
    let text = String(value)
    if (Array.isArray(value)) text = value.length > 0 ? value.join(',') : 'none'
    const source = group?.explicit.has(key) ? 'group' : 'policy'
    return `${key}=${text} (${source})`
  })
}
