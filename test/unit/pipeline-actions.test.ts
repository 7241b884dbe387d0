import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { AV_STATUSES, formatConfigError, parseConfig, SPAM_STATUSES, type AvStatus, type PolicySettings, type SpamStatus } from '../../src/config'
import { decideMessageActions, objectActionFor, spamStatusBlocks, type CopyStatuses } from '../../src/pipeline/actions'

function policy(lines: string[]): PolicySettings {
  const text = ['[mailgw.network]', 'Hostname=gw.example.com', 'Postmaster=pm@example.com', '[mailgw.policy]', ...lines].join('\n')
  const result = parseConfig(text, '/srv/mailgw/config/mailgw.conf')
  assert.deepEqual(result.errors.map(formatConfigError), [])
  assert.ok(result.config)
  return result.config.policy
}

/** Returns the statuses of a copy that has exactly this one status. */
function only(status: string): CopyStatuses {
  return status.startsWith('as/') ? { spam: status as SpamStatus, objects: [] } : { spam: null, objects: [status as AvStatus] }
}

const ALL_STATUSES: readonly string[] = [...SPAM_STATUSES, ...AV_STATUSES]
const EMPTY_LISTS = ['BlockMessage=none', 'QuarantineMessage=none', 'NotifyAdmin=none', 'NotifyRecipient=none', 'NotifySender=none', 'MarkSubject=none']

describe('message action table', () => {
  const lists = [
    ['BlockMessage', 'block'],
    ['QuarantineMessage', 'quarantine'],
    ['NotifyAdmin', 'notifyAdmin'],
    ['NotifyRecipient', 'notifyRecipient'],
    ['NotifySender', 'notifySender'],
  ] as const

  for (const [key, field] of lists) {
    for (const listed of ALL_STATUSES) {
      it(`${key}=${listed} fires only for ${listed}`, () => {
        const settings = policy([...EMPTY_LISTS, `${key}=${listed}`])
        for (const present of ALL_STATUSES) {
          const actions = decideMessageActions(only(present), settings)
          const fired =
            field === 'quarantine' ? [...actions.quarantineAs, ...actions.quarantineAv] : (actions[field] as string[])
          assert.deepEqual(fired, present === listed ? [listed] : [], `${key}=${listed} with ${present}`)
        }
      })
    }
  }

  it('sends as/* quarantine to AS and av/* to AV', () => {
    const settings = policy([...EMPTY_LISTS, 'QuarantineMessage=as/all,av/all'])
    for (const status of SPAM_STATUSES) {
      const actions = decideMessageActions(only(status), settings)
      assert.deepEqual(actions.quarantineAs, [status])
      assert.deepEqual(actions.quarantineAv, [])
    }
    for (const status of AV_STATUSES) {
      const actions = decideMessageActions(only(status), settings)
      assert.deepEqual(actions.quarantineAs, [])
      assert.deepEqual(actions.quarantineAv, [status])
    }
  })

  it('combines the spam status and object statuses', () => {
    const settings = policy([...EMPTY_LISTS, 'BlockMessage=av/infected', 'QuarantineMessage=as/probable,av/infected'])
    const actions = decideMessageActions({ spam: 'as/probable', objects: ['av/clean', 'av/infected', 'av/clean'] }, settings)
    assert.deepEqual(actions.statuses, ['as/probable', 'av/clean', 'av/infected'])
    assert.deepEqual(actions.block, ['av/infected'])
    assert.deepEqual(actions.quarantineAs, ['as/probable'])
    assert.deepEqual(actions.quarantineAv, ['av/infected'])
  })

  it('fires nothing for a clean message', () => {
    const actions = decideMessageActions({ spam: null, objects: [] }, policy(['BlockMessage=as/all,av/all', 'QuarantineMessage=as/all,av/all']))
    assert.deepEqual(actions.statuses, [])
    assert.deepEqual(actions.block, [])
    assert.equal(actions.subjectLabel, null)
  })
})

describe('subject label table', () => {
  const labels: [SpamStatus, string, string][] = [
    ['as/spam', 'spam', '[!! SPAM]'],
    ['as/probable', 'probable', '[?? Probable Spam]'],
    ['as/formal', 'formal', '[--Formal Message--]'],
    ['as/blacklisted', 'blacklisted', '[-- Blacklisted --]'],
  ]

  for (const [status, mark, label] of labels) {
    it(`MarkSubject=${mark} labels only ${status}`, () => {
      const settings = policy([`MarkSubject=${mark}`])
      for (const [other] of labels) {
        const expected = other === status ? label : null
        assert.equal(decideMessageActions({ spam: other, objects: [] }, settings).subjectLabel, expected, `${mark} with ${other}`)
      }
    })
  }

  it('uses configured labels', () => {
    const settings = policy(['MarkSubject=all', 'SubjectLabelSpam=*** SPAM ***'])
    assert.equal(decideMessageActions({ spam: 'as/spam', objects: [] }, settings).subjectLabel, '*** SPAM ***')
  })

  it('labels nothing without a spam status', () => {
    const settings = policy(['MarkSubject=all'])
    assert.equal(decideMessageActions({ spam: null, objects: ['av/infected'] }, settings).subjectLabel, null)
  })
})

describe('object action table', () => {
  const keyOf: Partial<Record<AvStatus, keyof PolicySettings>> = {
    'av/infected': 'ActionInfected',
    'av/suspicious': 'ActionSuspicious',
    'av/protected': 'ActionProtected',
    'av/error': 'ActionError',
    'av/filtered': 'ActionFiltered',
    'av/disinfected': 'ActionDisinfected',
  }

  for (const status of AV_STATUSES) {
    const key = keyOf[status]
    if (!key) {
      it(`${status} always passes`, () => {
        assert.equal(objectActionFor(status, policy(['ActionInfected=remove'])), 'pass')
      })
      continue
    }
    const actions = status === 'av/disinfected' ? ['cure', 'pass', 'remove', 'placeholder'] : ['pass', 'remove', 'placeholder']
    for (const action of actions) {
      it(`${key}=${action} applies to ${status}`, () => {
        assert.equal(objectActionFor(status, policy([`${key}=${action}`])), action)
      })
    }
  }
})

describe('anti-virus skip by spam status', () => {
  it('skips when the spam status blocks', () => {
    const settings = policy(['BlockMessage=as/spam'])
    assert.equal(spamStatusBlocks('as/spam', settings), true)
    assert.equal(spamStatusBlocks('as/probable', settings), false)
    assert.equal(spamStatusBlocks(null, settings), false)
  })
})
