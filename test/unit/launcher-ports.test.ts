import assert from 'node:assert/strict'
import net from 'node:net'
import { describe, it } from 'node:test'

import { assertPortsFree } from '../../src/launcher/gateway'
import { freePort } from '../helpers/smtp'

describe('assertPortsFree', () => {
  it('passes free addresses', async () => {
    const port = await freePort()
    await assertPortsFree([{ key: 'ListenOn', address: { host: '127.0.0.1', port } }])
  })

  it('names the key of an address in use', async () => {
    const server = net.createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as net.AddressInfo).port
    try {
      await assert.rejects(assertPortsFree([{ key: 'Mailbox', address: { host: '127.0.0.1', port } }]), new RegExp(`^Error: Mailbox 127\\.0\\.0\\.1:${port} is already in use`))
    } finally {
      server.close()
    }
  })
})
