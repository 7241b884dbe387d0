// The one log line per copy decision, in the grammar of src/log/decision.ts:
//   <txn> deliver stage=policy copy=2 group=managers to=a@x,b@x spam=as/probable rate=70
//     objects=1:av/clean,2:av/infected actions=subject,headers,quarantine:as block=as/probable ...
// `spam=not_checked` and `objects=not_checked` say that the engine did not run (the skip reason
// follows in spam_skip= or av_skip=); `spam=not_detected` is a verdict.

import { formatDecision } from '../log/decision'
import type { CopyOutcome } from './copy'

export function copyDecisionLine(transactionId: string, outcome: CopyOutcome, extra: Record<string, string | readonly string[]> = {}): string {
  const { actions } = outcome
  const taken = [...outcome.changes]
  if (actions.quarantineAs.length > 0) taken.push('quarantine:as')
  if (actions.quarantineAv.length > 0) taken.push('quarantine:av')
  if (actions.notifyAdmin.length > 0) taken.push('notify:admin')
  if (actions.notifyRecipient.length > 0) taken.push('notify:recipient')
  if (actions.notifySender.length > 0) taken.push('notify:sender')

  return formatDecision({
    id: transactionId,
    verdict: outcome.deliver ? 'deliver' : 'block',
    stage: 'policy',
    fields: {
      copy: outcome.copy,
      group: outcome.group,
      to: outcome.recipients,
      spam: outcome.spam ? (outcome.spam.status ?? 'not_detected') : 'not_checked',
      rate: outcome.spam ? outcome.spam.rate : undefined,
      spam_signs: outcome.spam?.signs && outcome.spam.signs.length > 0 ? outcome.spam.signs : undefined,
      spam_skip: outcome.spamSkipped,
      objects: outcome.objects ? outcome.objects.map((o) => `${o.id}:${o.status}`) : 'not_checked',
      av_skip: outcome.avSkipped,
      actions: taken.length > 0 ? taken : 'none',
      block: actions.block.length > 0 ? actions.block : undefined,
      ...extra,
    },
  })
}
