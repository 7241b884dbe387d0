import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setIniValues } from '../../src/launcher/ini-edit'

describe('setIniValues', () => {
  it('replaces a key and keeps the rest', () => {
    const text = '; comment\n[main]\nlisten=0.0.0.0:25\nnodes=cpus\n\n[other]\nx=1\n'
    assert.equal(setIniValues(text, 'main', { listen: '127.0.0.1:2525' }), '; comment\n[main]\nlisten=127.0.0.1:2525\nnodes=cpus\n\n[other]\nx=1\n')
  })

  it('adds a missing key to its section', () => {
    const text = '[max]\nline_length=512\n[headers]\nmax_lines=1000\n'
    assert.equal(setIniValues(text, 'max', { bytes: 100 }), '[max]\nline_length=512\nbytes=100\n[headers]\nmax_lines=1000\n')
  })

  it('adds a missing section', () => {
    assert.equal(setIniValues('[a]\nx=1\n', 'b', { y: 2 }), '[a]\nx=1\n[b]\ny=2\n')
  })

  it('treats keys before any header as main', () => {
    assert.equal(setIniValues('listen=1\n[x]\ny=1\n', 'main', { listen: 2 }), 'listen=2\n[x]\ny=1\n')
    assert.equal(setIniValues('[x]\ny=1\n', 'main', { nodes: 0 }), 'nodes=0\n[x]\ny=1\n')
  })
})
