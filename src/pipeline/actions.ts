// Action decisions of one copy, from its group's settings and the statuses found. Pure functions:
// the pipeline applies what they return.
//
// A copy's statuses are its anti-spam status (when one was found) and the distinct statuses of its
// objects (when anti-virus ran). A message action fires when any of them is in its list:
// BlockMessage stops delivery, QuarantineMessage saves the copy (as/* statuses to
// ASQuarantinePath, av/* statuses to AVQuarantinePath), the Notify* lists are recorded for the
// notifications, and MarkSubject picks the Subject label of the anti-spam status.

import { AV_STATUSES, SPAM_STATUSES, type PolicySettings, type AvStatus, type SpamStatus } from '../config'

export type ObjectAction = 'cure' | 'pass' | 'remove' | 'placeholder'

/** Returns what happens to an object with this status. */
export function objectActionFor(status: AvStatus, settings: PolicySettings): ObjectAction {
  switch (status) {
    case 'av/clean':
    case 'av/not_checked':
      return 'pass'
    case 'av/infected':
      return settings.ActionInfected as ObjectAction
    case 'av/suspicious':
      return settings.ActionSuspicious as ObjectAction
    case 'av/protected':
      return settings.ActionProtected as ObjectAction
    case 'av/error':
      return settings.ActionError as ObjectAction
    case 'av/filtered':
      return settings.ActionFiltered as ObjectAction
    case 'av/disinfected':
      return settings.ActionDisinfected as ObjectAction
  }
}

export interface CopyStatuses {
  spam: SpamStatus | null
  /** Status of each object; empty when anti-virus did not run. */
  objects: readonly AvStatus[]
}

export interface MessageActions {
  /** Every status of the copy, anti-spam first, in vocabulary order. */
  statuses: string[]
  /** The statuses that are in BlockMessage; delivery stops when this is not empty. */
  block: string[]
  quarantineAs: string[]
  quarantineAv: string[]
  notifyAdmin: string[]
  notifyRecipient: string[]
  notifySender: string[]
  /** The Subject label to add, or null. */
  subjectLabel: string | null
}

const LABEL_KEY: Record<SpamStatus, 'SubjectLabelSpam' | 'SubjectLabelProbable' | 'SubjectLabelFormal' | 'SubjectLabelBlacklisted'> = {
  'as/spam': 'SubjectLabelSpam',
  'as/probable': 'SubjectLabelProbable',
  'as/formal': 'SubjectLabelFormal',
  'as/blacklisted': 'SubjectLabelBlacklisted',
}

/** True when the anti-spam status alone blocks the copy, which skips the anti-virus scan. */
export function spamStatusBlocks(spam: SpamStatus | null, settings: PolicySettings): boolean {
  return spam !== null && settings.BlockMessage.includes(spam)
}

export function copyStatusList(statuses: CopyStatuses): string[] {
  const present = new Set<string>(statuses.objects)
  if (statuses.spam) present.add(statuses.spam)
  return [...SPAM_STATUSES, ...AV_STATUSES].filter((status) => present.has(status))
}

export function decideMessageActions(statuses: CopyStatuses, settings: PolicySettings): MessageActions {
  const present = copyStatusList(statuses)
  const inList = (list: readonly string[]) => present.filter((status) => list.includes(status))
  const quarantine = inList(settings.QuarantineMessage)

  const labelled = statuses.spam !== null && settings.MarkSubject.includes(statuses.spam)
  return {
    statuses: present,
    block: inList(settings.BlockMessage),
    quarantineAs: quarantine.filter((status) => status.startsWith('as/')),
    quarantineAv: quarantine.filter((status) => status.startsWith('av/')),
    notifyAdmin: inList(settings.NotifyAdmin),
    notifyRecipient: inList(settings.NotifyRecipient),
    notifySender: inList(settings.NotifySender),
    subjectLabel: labelled && statuses.spam ? settings[LABEL_KEY[statuses.spam]] : null,
  }
}
