// Two gateway nodes that share one Redis (RedisServer=) share MaximalIncomingSessionsPerIP.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startTestGateway, type TestGateway } from '../helpers/gateway'
import { startTestRedis, type TestRedis } from '../helpers/redis'
import { SmtpClient } from '../helpers/smtp'

function nodeConf(redisSocket: string): string {
  return `
[mailgw.network]
ListenOn=127.0.0.1:%PORT%
Hostname=gw.test.example
Postmaster=admin@corp.example
ProtectedDomains=corp.example

[mailgw.limits]
MaximalIncomingSessionsPerIP=1

[mailgw.options]
Xclient=true
RedisServer=${redisSocket}

[mailgw.policy]
CheckAV=false
CheckSpam=false
`
}

async function openAs(port: number, addr: string) {
  const { client } = await SmtpClient.connect(port)
  const xclient = await client.command(`XCLIENT ADDR=${addr}`)
  return { client, xclient }
}

describe('session limits across nodes', () => {
  let redis: TestRedis
  let nodeA: TestGateway
  let nodeB: TestGateway

  before(async () => {
    redis = await startTestRedis()
    nodeA = await startTestGateway({ conf: nodeConf(redis.socket) })
    nodeB = await startTestGateway({ conf: nodeConf(redis.socket) })
  })

  after(async () => {
    await nodeA?.stop()
    await nodeB?.stop()
    await redis?.stop()
  })

  it('counts a client on both nodes', async () => {
    const first = await openAs(nodeA.port, '192.0.2.77')
    assert.equal(first.xclient.code, 220, first.xclient.text)

    const second = await openAs(nodeB.port, '192.0.2.77')
    assert.equal(second.xclient.code, 421, second.xclient.text)
    assert.equal(second.xclient.enhanced, '4.7.0')
    second.client.close()

    first.client.close()
    await new Promise((r) => setTimeout(r, 500))
    const third = await openAs(nodeB.port, '192.0.2.77')
    assert.equal(third.xclient.code, 220, 'the place is free again')
    third.client.close()
  })

  it('logs the shared Redis', async () => {
    await nodeB.waitForOutput(new RegExp(`sessions counted in Redis at ${redis.socket.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`))
  })
})
