import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { describe, it } from 'node:test'
import { limitConnectionsPerHost, type ClientPool } from '../../src/outbound/host-limit'

function fakePool() {
  const opened: string[] = []
  const pool: ClientPool = {
    get_client(mx, callback) {
      opened.push(`${mx.exchange}:${mx.port}`)
      setImmediate(() => callback(mx.exchange === 'down.example' ? 'refused' : null, mx.exchange === 'down.example' ? null : new EventEmitter()))
    },
    release_client() {},
  }
  return { pool, opened }
}

const tick = () => new Promise((r) => setImmediate(r))

describe('limitConnectionsPerHost', () => {
  it('holds deliveries over the cap', async () => {
    const { pool, opened } = fakePool()
    limitConnectionsPerHost(pool, 2)
    const sockets: unknown[] = []
    for (let i = 0; i < 3; i++) pool.get_client({ exchange: 'a.example', port: 25 }, (_e, s) => sockets.push(s))
    await tick()
    assert.equal(opened.length, 2)
    assert.equal(sockets.length, 2)

    pool.release_client(sockets[0], { exchange: 'a.example', port: 25 })
    await tick()
    assert.equal(opened.length, 3)
  })

  it('leaves other hosts alone', async () => {
    const { pool, opened } = fakePool()
    limitConnectionsPerHost(pool, 1)
    pool.get_client({ exchange: 'a.example', port: 25 }, () => undefined)
    pool.get_client({ exchange: 'b.example', port: 25 }, () => undefined)
    await tick()
    assert.deepEqual(opened, ['a.example:25', 'b.example:25'])
  })

  it('frees the slot of a failed connect', async () => {
    const { pool, opened } = fakePool()
    const counts = limitConnectionsPerHost(pool, 1)
    pool.get_client({ exchange: 'down.example', port: 25 }, () => undefined)
    pool.get_client({ exchange: 'down.example', port: 25 }, () => undefined)
    await tick()
    await tick()
    assert.equal(opened.length, 2)
    assert.equal(counts().size, 0)
  })

  it('frees the slot when the socket closes', async () => {
    const { pool, opened } = fakePool()
    limitConnectionsPerHost(pool, 1)
    let socket: EventEmitter | null = null
    pool.get_client({ exchange: 'a.example', port: 25 }, (_e, s) => (socket = s as EventEmitter))
    pool.get_client({ exchange: 'a.example', port: 25 }, () => undefined)
    await tick()
    assert.equal(opened.length, 1)
    socket!.emit('close')
    await tick()
    assert.equal(opened.length, 2)
  })

  it('counts a release and a close once', async () => {
    const { pool } = fakePool()
    const counts = limitConnectionsPerHost(pool, 2)
    let socket: EventEmitter | null = null
    pool.get_client({ exchange: 'a.example', port: 25 }, (_e, s) => (socket = s as EventEmitter))
    pool.get_client({ exchange: 'a.example', port: 25 }, () => undefined)
    await tick()
    pool.release_client(socket, { exchange: 'a.example', port: 25 })
    socket!.emit('close')
    assert.equal(counts().get('a.example:25'), 1)
  })
})
