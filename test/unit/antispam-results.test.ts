// The Haraka results entries of the anti-spam stage, the pass list of checks, and karma's sign.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { passedChecks, switchOf } from '../../src/antispam/checks'
import { reputationSign, KARMA_MAX_POINTS } from '../../src/antispam/reputation'
import { antiSpamResults } from '../../src/antispam/results'
import { sign } from '../../src/antispam/signs'
import type { PolicySettings } from '../../src/config'
import type { MessageContext, SpamVerdict } from '../../src/pipeline/engines'

const verdict = (over: Partial<SpamVerdict> = {}): SpamVerdict => ({ status: null, rate: 0, method: 'none', info: [], signs: [], passed: [], skippedChecks: [], ...over })

describe('antiSpamResults', () => {
  it('one entry per copy', () => {
    const entries = antiSpamResults([
      { copy: 1, group: 'a', spam: verdict({ status: 'as/probable', rate: 7, method: 'headers', signs: ['SpamHeadersToUndisclosed'], passed: ['SpamCheckSPF'] }) },
      { copy: 2, group: 'b', spam: verdict({ status: 'as/spam', rate: 7, method: 'headers', signs: ['SpamHeadersToUndisclosed'], passed: ['SpamCheckSPF'] }) },
    ])
    assert.equal(entries.length, 2)
    assert.deepEqual(entries[0].fail, ['SpamHeadersToUndisclosed'])
    assert.deepEqual(entries[0].pass, ['SpamCheckSPF'])
    assert.equal(entries[0].msg, 'copy 1 (a) as/probable score 7')
    assert.equal(entries[1].msg, 'copy 2 (b) as/spam score 7')
  })

  it('lists each name once', () => {
    const spam = verdict({ signs: ['X', 'X'], passed: ['P'], skippedChecks: ['SpamCheckDNSBL'] })
    const [first, second] = antiSpamResults([
      { copy: 1, group: 'a', spam },
      { copy: 2, group: 'b', spam },
    ])
    assert.deepEqual(first.fail, ['X'])
    assert.deepEqual(first.skip, ['SpamCheckDNSBL'])
    assert.deepEqual(second.fail, [])
    assert.deepEqual(second.pass, [])
    assert.deepEqual(second.skip, [])
  })

  it('copies accumulate as plain data', () => {
    const entries = antiSpamResults([
      { copy: 1, group: 'a', spam: verdict({ status: 'as/spam', rate: 9.5, method: 'GTUBE', signs: ['GTUBE'] }) },
      { copy: 2, group: 'b', spam: null, spamSkipped: 'CheckSpam is off' },
    ])
    assert.deepEqual(entries[1].copies, {
      1: { group: 'a', status: 'as/spam', score: 9.5, method: 'GTUBE', signs: ['GTUBE'] },
      2: { group: 'b', status: 'skipped', score: 0, method: 'none', signs: [] },
    })
    assert.deepEqual(JSON.parse(JSON.stringify(entries[1])), entries[1])
  })

  it('skipped copies say why', () => {
    const [tooBig, off] = antiSpamResults([
      { copy: 1, group: 'a', spam: verdict({ skipped: 'message of 90 KB is larger than SpamCheckSizeLimit (1 KB)' }) },
      { copy: 2, group: 'b', spam: null },
    ])
    assert.equal(tooBig.msg, 'copy 1 (a) skipped: message of 90 KB is larger than SpamCheckSizeLimit (1 KB)')
    assert.equal(off.msg, 'copy 2 (b) skipped: anti-spam did not run')
  })
})

describe('passedChecks', () => {
  const on = (over: Record<string, boolean> = {}) =>
    ({
      SpamUseDNS: true,
      SpamCheckDNSBL: true,
      SpamCheckHostInDNS: true,
      SpamCheckSPF: false,
      SpamCheckSURBL: true,
      SpamHeadersToUndisclosed: true,
      SpamCheckEnvelope: true,
      SpamCheckReceived: true,
      SpamCheckContent: true,
      SpamCheckReputation: true,
      ...over,
    }) as unknown as PolicySettings

  it('fired, skipped and off checks are not passed', () => {
    const signs = [sign('EnvelopeFromMismatch', 'envelope', 1, 'x'), sign('SpamHeadersToUndisclosed', 'headers', 3, 'x')]
    const passed = passedChecks(on(), signs, [{ name: 'SpamCheckHostInDNS', reason: 'timed out' }], { dnsblZones: 1, uriZones: 0, karma: false })
    assert.deepEqual(passed.sort(), ['SpamCheckContent', 'SpamCheckDNSBL', 'SpamCheckReceived'])
  })

  it('DNS checks need SpamUseDNS', () => {
    const passed = passedChecks(on({ SpamUseDNS: false }), [], [], { dnsblZones: 1, uriZones: 1, karma: false })
    assert.ok(!passed.includes('SpamCheckDNSBL'))
    assert.ok(!passed.includes('SpamCheckSURBL'))
  })

  it('reputation only with a karma score', () => {
    assert.ok(!passedChecks(on(), [], [], { dnsblZones: 0, uriZones: 0, karma: false }).includes('SpamCheckReputation'))
    assert.ok(passedChecks(on(), [], [], { dnsblZones: 0, uriZones: 0, karma: true }).includes('SpamCheckReputation'))
  })

  it('switchOf maps sign families', () => {
    assert.equal(switchOf('ReceivedNoDate'), 'SpamCheckReceived')
    assert.equal(switchOf('EnvelopeRcptNotInHeaders'), 'SpamCheckEnvelope')
    assert.equal(switchOf('GTUBE'), 'SpamCheckContent')
    assert.equal(switchOf('rspamd'), 'SpamCheckContent')
    assert.equal(switchOf('SpamCheckReputation'), 'SpamCheckReputation')
  })
})

describe('reputationSign', () => {
  const context = (karmaScore?: number): MessageContext => ({ transactionId: 't', mailFrom: '', recipients: [], clientIp: '198.51.100.7', clientHost: null, helo: null, karmaScore })

  it('no score or a good score: no sign', () => {
    assert.equal(reputationSign(context()), null)
    assert.equal(reputationSign(context(0)), null)
    assert.equal(reputationSign(context(3)), null)
    assert.equal(reputationSign(context(Number.NaN)), null)
  })

  it('negative score: half its points', () => {
    const found = reputationSign(context(-5))
    assert.equal(found?.weight, 2.5)
    assert.equal(found?.method, 'reputation')
    assert.equal(found?.detail, 'karma score -5 for 198.51.100.7')
  })

  it('points are capped', () => {
    assert.equal(reputationSign(context(-100))?.weight, KARMA_MAX_POINTS)
  })
})
