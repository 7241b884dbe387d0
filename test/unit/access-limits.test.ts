import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { checkDeclaredSize } from '../../plugins/mailgw_access/mail'
import { QueueSpace } from '../../src/access/queue-space'
import { LocalSessionCounter, RedisSessionCounter } from '../../src/access/session-counter'
import { startTestRedis, type TestRedis } from '../helpers/redis'

describe('LocalSessionCounter', () => {
  it('counts per address and in total', async () => {
    const counter = new LocalSessionCounter()
    assert.deepEqual(await counter.acquire('s1', '192.0.2.1'), { total: 1, perIp: 1 })
    assert.deepEqual(await counter.acquire('s2', '192.0.2.1'), { total: 2, perIp: 2 })
    assert.deepEqual(await counter.acquire('s3', '192.0.2.2'), { total: 3, perIp: 1 })
    await counter.release('s1', '192.0.2.1')
    assert.deepEqual(await counter.acquire('s4', '192.0.2.1'), { total: 3, perIp: 2 })
  })

  it('moves a session to a new address once', async () => {
    const counter = new LocalSessionCounter()
    await counter.acquire('s1', '127.0.0.1')
    assert.deepEqual(await counter.acquire('s1', '192.0.2.1'), { total: 1, perIp: 1 })
  })
})

describe('RedisSessionCounter', () => {
  let redis: TestRedis
  const errors: string[] = []

  before(async () => {
    redis = await startTestRedis()
  })
  after(() => redis.stop())

  it('shares counts between two counters', async () => {
    const a = new RedisSessionCounter({ target: { path: redis.socket }, leaseSeconds: 60, onError: (m) => errors.push(m) })
    const b = new RedisSessionCounter({ target: { path: redis.socket }, leaseSeconds: 60, onError: (m) => errors.push(m) })
    assert.deepEqual(await a.acquire('s1', '192.0.2.1'), { total: 1, perIp: 1 })
    assert.deepEqual(await b.acquire('s2', '192.0.2.1'), { total: 2, perIp: 2 })
    await a.release('s1', '192.0.2.1')
    assert.deepEqual(await b.acquire('s3', '192.0.2.9'), { total: 2, perIp: 1 })
    await a.close()
    await b.close()
    assert.deepEqual(errors, [])
  })

  it('drops sessions whose lease ended', async () => {
    const counter = new RedisSessionCounter({ target: { path: redis.socket }, leaseSeconds: 1, keyPrefix: 'lease-test', onError: (m) => errors.push(m) })
    await counter.acquire('crashed', '192.0.2.5')
    await new Promise((r) => setTimeout(r, 1200))
    assert.deepEqual(await counter.acquire('live', '192.0.2.5'), { total: 1, perIp: 1 })
    await counter.close()
  })

  it('falls back to this process when Redis is unreachable', async () => {
    const seen: string[] = []
    const counter = new RedisSessionCounter({ target: { path: `${redis.dir}/missing.sock` }, leaseSeconds: 60, onError: (m) => seen.push(m) })
    assert.deepEqual(await counter.acquire('s1', '192.0.2.1'), { total: 1, perIp: 1 })
    await counter.release('s1', '192.0.2.1')
    await counter.close()
    assert.ok(seen.some((m) => /counting in this process only/.test(m)), seen.join('\n'))
  })
})

describe('declared SIZE', () => {
  it('refuses for good above either limit and for now past the session rest', () => {
    assert.equal(checkDeclaredSize(100, 0, 100, 1000), null)
    assert.equal(checkDeclaredSize(101, 0, 100, 1000)?.reply, 'messageTooBig')
    assert.equal(checkDeclaredSize(100, 900, 100, 1000), null)
    assert.equal(checkDeclaredSize(101, 900, 200, 1000)?.reply, 'sessionTooBig')
    assert.equal(checkDeclaredSize(0, 1000, 100, 1000)?.verdict, 'tempfail')
  })
})

describe('QueueSpace', () => {
  it('reads the free space and caches it', async () => {
    let now = 0
    const space = new QueueSpace('/tmp', () => now)
    const free = await space.freeBytes()
    assert.ok(free > 0)
    assert.equal(await space.hasRoom(0), true)
    assert.equal(await space.hasRoom(free + 1024 ** 3), false)
    now = 1000
    assert.equal(await space.freeBytes(), free, 'cached within 5 s')
  })
})
