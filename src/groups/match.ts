// Assigns each recipient of a message to a policy group. A recipient belongs to the first
// [mailgw.group:NAME] section, in file order, whose Senders match the envelope sender or the
// client and whose Recipients match that recipient. A recipient that no group takes belongs to
// [mailgw.policy].
//
// Selector semantics:
// - A missing Senders or Recipients key matches everything, the null sender included.
// - A key that is present but empty matches nothing, so the group is never chosen.
// - An address mask is tested against the envelope sender; the null sender is tested as the
//   empty string, so it matches only a mask that allows an empty address (`*@*` does not).
// - `ip A/BITS` and `network NAME` test the client address, `host MASK` the client's verified
//   host name (a client without one never matches a host mask).

import type { BlockList } from 'node:net'

import type { GroupConfig, MailgwConfig, PolicySettings, SenderSpec } from '../config'
import { matchAddressMask, matchMask } from '../match/mask'
import { ipInList, rangeList } from './ip'

/** The envelope sender and client that Senders values are tested against. */
export interface SenderContext {
  /** Envelope sender address; '' for the null sender `<>`. */
  mailFrom: string
  clientIp: string
  /** Host name of the client confirmed by forward and reverse DNS; null without one. */
  clientHost: string | null
}

export const POLICY_GROUP = 'policy'

/** The group a recipient falls into: a configured group, or the policy. */
export interface GroupChoice {
  /** The group name, or `policy`. */
  name: string
  /** Position of the group in the file, -1 for the policy. */
  index: number
  group: GroupConfig | null
  settings: PolicySettings
}

/** The result of trying one group for a recipient, for `mailgw explain`. */
export interface GroupTrial {
  group: GroupConfig
  /** The Senders value that matched, `not set`, or null when none matched (or the key is empty). */
  sendersMatch: string | null
  /** The Recipients mask that matched, `not set`, or null when none matched (or the key is empty). */
  recipientsMatch: string | null
}

type SenderTest = (sender: SenderContext) => boolean

interface CompiledGroup {
  choice: GroupChoice
  /** null when the key is missing (matches everything). */
  senders: { spec: SenderSpec; test: SenderTest }[] | null
  recipients: string[] | null
}

export class GroupMatcher {
  private readonly groups: CompiledGroup[]
  private readonly policy: GroupChoice

  constructor(config: Pick<MailgwConfig, 'policy' | 'groups' | 'network'>) {
    const networks = new Map<string, BlockList>()
    for (const network of config.network.Network) networks.set(network.name.toLowerCase(), rangeList(network.ranges))

    this.policy = { name: POLICY_GROUP, index: -1, group: null, settings: config.policy }
    this.groups = config.groups.map((group, index) => ({
      choice: { name: group.name, index, group, settings: group.settings },
      senders: group.Senders === undefined ? null : group.Senders.map((spec) => ({ spec, test: compileSender(spec, networks) })),
      recipients: group.Recipients === undefined ? null : [...group.Recipients],
    }))
  }

  /** Returns the group of one recipient. */
  groupOf(sender: SenderContext, recipient: string): GroupChoice {
    for (const group of this.groups) {
      if (sendersMatch(group, sender) !== null && recipientsMatch(group, recipient) !== null) return group.choice
    }
    return this.policy
  }

  /** Returns the group of one recipient and, for every group tried, why it did or did not match. */
  explain(sender: SenderContext, recipient: string): { choice: GroupChoice; trials: GroupTrial[] } {
    const trials: GroupTrial[] = []
    for (const group of this.groups) {
      const trial = {
        group: group.choice.group as GroupConfig,
        sendersMatch: sendersMatch(group, sender),
        recipientsMatch: recipientsMatch(group, recipient),
      }
      trials.push(trial)
      if (trial.sendersMatch !== null && trial.recipientsMatch !== null) return { choice: group.choice, trials }
    }
    return { choice: this.policy, trials }
  }

  /**
   * Splits recipients into one set per group. Sets are in the order each group first appears among
   * the recipients, and each set keeps the order of its recipients.
   */
  partition<R>(sender: SenderContext, recipients: readonly R[], addressOf: (r: R) => string): { choice: GroupChoice; recipients: R[] }[] {
    const sets = new Map<string, { choice: GroupChoice; recipients: R[] }>()
    for (const recipient of recipients) {
      const choice = this.groupOf(sender, addressOf(recipient))
      const set = sets.get(choice.name)
      if (set) set.recipients.push(recipient)
      else sets.set(choice.name, { choice, recipients: [recipient] })
    }
    return [...sets.values()]
  }
}

function compileSender(spec: SenderSpec, networks: ReadonlyMap<string, BlockList>): SenderTest {
  switch (spec.kind) {
    case 'address':
      return (sender) => matchAddressMask(spec.mask, sender.mailFrom)
    case 'ip': {
      const list = rangeList([spec.range])
      return (sender) => ipInList(list, sender.clientIp)
    }
    case 'host':
      return (sender) => sender.clientHost !== null && matchMask(spec.mask, sender.clientHost.replace(/\.$/, ''))
    case 'network': {
      const list = networks.get(spec.name.toLowerCase())
      if (!list) throw new Error(`${spec.file}:${spec.line}: Senders=${spec.text} names no Network= of [mailgw.network]`)
      return (sender) => ipInList(list, sender.clientIp)
    }
  }
}

function sendersMatch(group: CompiledGroup, sender: SenderContext): string | null {
  if (group.senders === null) return 'not set'
  return group.senders.find((s) => s.test(sender))?.spec.text ?? null
}

function recipientsMatch(group: CompiledGroup, recipient: string): string | null {
  if (group.recipients === null) return 'not set'
  return group.recipients.find((mask) => matchAddressMask(mask, recipient)) ?? null
}

const matchers = new WeakMap<object, GroupMatcher>()

/** Returns the matcher of a parsed config, compiled once per config object. */
export function matcherFor(config: Pick<MailgwConfig, 'policy' | 'groups' | 'network'>): GroupMatcher {
  let matcher = matchers.get(config)
  if (!matcher) {
    matcher = new GroupMatcher(config)
    matchers.set(config, matcher)
  }
  return matcher
}
