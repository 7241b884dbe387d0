import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, it } from 'node:test'

import type { KeySpec } from '../../src/config'
import { GROUP_SELECTOR_KEYS, parseConfig, renderConfigReference, renderDefaultConfig, SCHEMA, SECTION_ORDER, sectionSpec } from '../../src/config'

const REFERENCE = resolve(__dirname, '../../../docs/config-reference.md')

/** Keys the gateway uses from its first version; other keys become active as features land. */
const ACTIVE_KEYS = [
  'ListenOn',
  'Hostname',
  'Postmaster',
  'ProtectedDomains',
  'ForwardRoute',
  'MinimalBackoffTime',
  'MaximalBackoffTime',
  'MaximalQueueLifetime',
  'MaximalIncomingMessageSize',
  'MaximalIncomingHops',
  'Workers',
  'QueuePath',
  'Xclient',
  'Mailbox',
  'MailboxPath',
  'Clamd',
  'Redis',
  'Nameserver',
]

function allKeys(): [string, string, KeySpec][] {
  return SECTION_ORDER.flatMap((id) => Object.entries(sectionSpec(id).keys).map(([name, spec]) => [id, name, spec] as [string, string, KeySpec]))
}

describe('config schema', () => {
  it('docs/config-reference.md matches the schema', () => {
    const onDisk = readFileSync(REFERENCE, 'utf8')
    assert.ok(onDisk === renderConfigReference(), 'docs/config-reference.md is out of date: run `npm run docs:config` and commit the result')
  })

  it('marks the wired keys active', () => {
    const active = new Set(allKeys().filter(([, , spec]) => spec.status === 'active').map(([, name]) => name))
    for (const name of ACTIVE_KEYS) assert.ok(active.has(name), name)
  })

  it('every key has a one-line doc', () => {
    for (const [id, name, spec] of allKeys()) {
      assert.ok(spec.doc.length > 10, `${id}.${name}`)
      assert.ok(!spec.doc.includes('\n'), `${id}.${name}`)
    }
  })

  it('single keys with allowEmpty have no default', () => {
    for (const [id, name, spec] of allKeys()) {
      const isList = spec.repeatable === true || spec.commaList === true
      if (!isList && spec.allowEmpty === true) assert.equal(spec.default, undefined, `${id}.${name}`)
    }
  })

  it('ranged keys have defaults within range', () => {
    const result = parseConfig(renderDefaultConfig(), '/srv/mailgw/config/mailgw.conf')
    assert.deepEqual(result.errors, [])
    const limits = result.config?.limits as unknown as Record<string, number>
    for (const [name, spec] of Object.entries(SCHEMA.limits.keys) as [string, KeySpec][]) {
      assert.ok(limits[name] >= (spec.min ?? 0), `${name} below its minimum`)
      assert.ok(limits[name] <= (spec.max ?? Infinity), `${name} above its maximum`)
    }
  })

  it('reference marks planned keys', () => {
    const text = renderConfigReference()
    // The group section lists only Senders and Recipients; its policy keys are listed under the policy.
    const planned = allKeys().filter(([id, name, spec]) => spec.status === 'planned' && (id !== 'group' || name in GROUP_SELECTOR_KEYS))
    const marks = text.split('**planned: parsed and validated, not yet in effect**').length - 1
    assert.equal(marks, planned.length)
  })

  it('reference names every section and key', () => {
    const text = renderConfigReference()
    for (const id of SECTION_ORDER) {
      for (const name of Object.keys(sectionSpec(id).keys)) assert.ok(text.includes(`### ${name}\n`), name)
    }
    assert.ok(text.includes('## [mailgw.group:NAME]'))
    assert.ok(text.includes('## [updater.options]'))
  })

  it('default config lists every non-ignored key', () => {
    const text = renderDefaultConfig()
    for (const id of SECTION_ORDER) {
      if (id === 'group') continue
      for (const [name, spec] of Object.entries(sectionSpec(id).keys) as [string, KeySpec][]) {
        if (spec.status === 'ignored') continue
        assert.match(text, new RegExp(`^#?${name}=`, 'm'), name)
      }
    }
  })
})
