// A launcher killed with SIGKILL cannot stop Haraka, which runs in its own process group; Haraka
// notices that the launcher is gone and stops itself, so the SMTP port is free again.

import assert from 'node:assert/strict'
import net from 'node:net'
import { after, describe, it } from 'node:test'

import { startTestGateway, type TestGateway } from '../helpers/gateway'

function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('error', () => resolve(true))
  })
}

describe('launcher watch', () => {
  let gateway: TestGateway | null = null
  after(async () => gateway?.stop())

  it('stops Haraka when the launcher is killed', { timeout: 60000 }, async () => {
    gateway = await startTestGateway({
      conf: `[mailgw.network]
ListenOn=127.0.0.1:%PORT%
Hostname=gw.test.example
Postmaster=admin@corp.example
ProtectedDomains=corp.example

[mailgw.policy]
CheckAV=false
CheckSpam=false
`,
    })
    const launcher = gateway.process.pid as number
    assert.equal(await connectionRefused(gateway.port), false, 'the gateway listens')

    process.kill(launcher, 'SIGKILL')
    await gateway.waitForOutput(new RegExp(`the mailgw launcher \\(pid ${launcher}\\) is gone; stopping Haraka`), 15000)
    const deadline = Date.now() + 20000
    while (!(await connectionRefused(gateway.port)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
    assert.equal(await connectionRefused(gateway.port), true, 'the SMTP port is free again')
  })
})
