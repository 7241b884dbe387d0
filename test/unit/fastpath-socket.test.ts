// tuneSocket on a fake pluggable stream: Nagle off, writes of one tick gathered under one
// cork, bytes and callbacks passed through in order.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isTuned, tuneSocket, type PluggableSocket, type TargetSocket } from '../../src/outbound/fast-socket'

class FakeTarget implements TargetSocket {
  events: string[] = []
  corks = 0
  noDelay: boolean | undefined
  write(chunk: unknown, _encoding?: unknown, callback?: unknown): boolean {
    this.events.push(`write:${String(chunk)}${this.corks > 0 ? ':corked' : ''}`)
    if (typeof callback === 'function') callback()
    return true
  }
  cork(): void {
    this.corks++
    this.events.push('cork')
  }
  uncork(): void {
    this.corks--
    this.events.push('uncork')
  }
  setNoDelay(noDelay?: boolean): void {
    this.noDelay = noDelay
  }
}

function pluggable(target: TargetSocket): PluggableSocket {
  return {
    targetsocket: target,
    write(chunk, encoding, callback) {
      return this.targetsocket.write(chunk, encoding, callback)
    },
  }
}

/** A defer whose flushes run only when the test calls endTick(). */
function manualTicks(): { defer: (f: () => void) => void; endTick: () => void } {
  const pending: Array<() => void> = []
  return { defer: (f) => pending.push(f), endTick: () => pending.splice(0).forEach((f) => f()) }
}

describe('tuneSocket', () => {
  it('turns Nagle off on the target socket', () => {
    const target = new FakeTarget()
    tuneSocket(pluggable(target))
    assert.equal(target.noDelay, true)
  })

  it('gathers one tick of writes under one cork', () => {
    const target = new FakeTarget()
    const socket = pluggable(target)
    const ticks = manualTicks()
    tuneSocket(socket, ticks.defer)

    socket.write('MAIL FROM:<a@b>\r\n')
    socket.write('RCPT TO:<c@d>\r\n')
    assert.deepEqual(target.events, ['cork', 'write:MAIL FROM:<a@b>\r\n:corked', 'write:RCPT TO:<c@d>\r\n:corked'])

    ticks.endTick()
    assert.equal(target.events.at(-1), 'uncork')
    assert.equal(target.corks, 0)
  })

  it('corks again in the next tick', () => {
    const target = new FakeTarget()
    const socket = pluggable(target)
    const ticks = manualTicks()
    tuneSocket(socket, ticks.defer)

    socket.write('a')
    ticks.endTick()
    socket.write('b')
    ticks.endTick()
    assert.deepEqual(target.events, ['cork', 'write:a:corked', 'uncork', 'cork', 'write:b:corked', 'uncork'])
  })

  it('passes encoding, callback and return value through', () => {
    const target = new FakeTarget()
    const socket = pluggable(target)
    tuneSocket(socket, manualTicks().defer)
    let called = false
    const ok = socket.write('x', 'utf8', () => (called = true))
    assert.equal(ok, true)
    assert.equal(called, true)
  })

  it('uncorks the socket it corked after a target swap', () => {
    const plain = new FakeTarget()
    const tls = new FakeTarget()
    const socket = pluggable(plain)
    const ticks = manualTicks()
    tuneSocket(socket, ticks.defer)

    socket.write('STARTTLS\r\n')
    socket.targetsocket = tls
    ticks.endTick()
    assert.equal(plain.corks, 0)
    assert.equal(tls.corks, 0)
  })

  it('writes to a target without cork unchanged', () => {
    const writes: string[] = []
    const socket = pluggable({ write: (c) => writes.push(String(c)) > 0 })
    tuneSocket(socket, manualTicks().defer)
    socket.write('after clean()')
    assert.deepEqual(writes, ['after clean()'])
  })

  it('tunes a socket once', () => {
    const target = new FakeTarget()
    const socket = pluggable(target)
    const ticks = manualTicks()
    tuneSocket(socket, ticks.defer)
    tuneSocket(socket, ticks.defer)
    socket.write('once')
    assert.equal(isTuned(socket), true)
    assert.deepEqual(target.events, ['cork', 'write:once:corked'])
  })
})
