import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { formatSchedule, retrySchedule } from '../../src/queue/backoff'

describe('retrySchedule', () => {
  it('doubles up to the maximum', () => {
    const s = retrySchedule({ minimalBackoff: 1800, maximalBackoff: 21600, queueLifetime: 5 * 86400 })
    assert.deepEqual(s.slice(0, 5), [1800, 3600, 7200, 14400, 21600])
    assert.ok(s.slice(4).every((x) => x === 21600))
  })

  it('stays within the lifetime', () => {
    const lifetime = 5 * 86400
    const s = retrySchedule({ minimalBackoff: 1800, maximalBackoff: 21600, queueLifetime: lifetime })
    const sum = s.reduce((a, b) => a + b, 0)
    assert.ok(sum <= lifetime)
    assert.ok(sum + 21600 > lifetime, 'no room for another retry')
  })

  it('keeps one retry for a short lifetime', () => {
    assert.deepEqual(retrySchedule({ minimalBackoff: 60, maximalBackoff: 60, queueLifetime: 30 }), [60])
  })

  it('raises intervals to the Haraka floor', () => {
    assert.deepEqual(retrySchedule({ minimalBackoff: 1, maximalBackoff: 1, queueLifetime: 12 }), [5, 5])
  })
})

describe('formatSchedule', () => {
  it('compresses runs', () => {
    assert.equal(formatSchedule([1800, 3600, 21600, 21600, 21600]), '1800s,3600s,21600s*3')
  })
})
