// `mailgw check-config` and `mailgw start` on valid and broken files, run as commands.

import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runMailgw } from '../helpers/gateway'

const BROKEN = `[mailgw.network]
ListenOn=127.0.0.1:99999
Hostname=gw.example.com
ProtectedDomains=example.com
Colour=blue

[mailgw.limits]
MaximalIncomingHops=abc

[mailgw.policy]
CheckSpam=maybe
`

describe('check-config', () => {
  let dir: string
  let broken: string

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mailgw-check-'))
    broken = path.join(dir, 'broken.conf')
    writeFileSync(broken, BROKEN)
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('shipped default is valid and silent', async () => {
    const r = await runMailgw(['check-config'])
    assert.equal(r.code, 0)
    assert.equal(r.stdout, '')
    assert.equal(r.stderr, '')
  })

  it('broken file lists every error', async () => {
    const r = await runMailgw(['check-config', '-c', broken])
    assert.equal(r.code, 1)
    assert.deepEqual(r.stderr.trim().split('\n').sort(), [
      `${broken}:11: invalid value "maybe" for CheckSpam in [mailgw.policy]: expected true or false (also yes/no, y/n, on/off, 1/0)`,
      `${broken}:1: missing required key Postmaster in [mailgw.network]`,
      `${broken}:2: invalid value "127.0.0.1:99999" for ListenOn in [mailgw.network]: expected IP:PORT, e.g. 127.0.0.1:25 or [::1]:25`,
      `${broken}:5: unknown key "Colour" in [mailgw.network]: see docs/config-reference.md for the keys of this section`,
      `${broken}:8: invalid value "abc" for MaximalIncomingHops in [mailgw.limits]: expected an integer from 1 to 100`,
    ])
  })

  it('-k and --check-config are aliases', async () => {
    for (const flag of ['-k', '--check-config']) {
      const r = await runMailgw([flag, '-c', broken])
      assert.equal(r.code, 1, flag)
      assert.equal(r.stderr.trim().split('\n').length, 5, flag)
    }
  })

  it('missing file is an error', async () => {
    const r = await runMailgw(['check-config', '-c', path.join(dir, 'absent.conf')])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /absent\.conf:1: cannot read the configuration file/)
  })

  it('start refuses an invalid file', async () => {
    const check = await runMailgw(['check-config', '-c', broken])
    const r = await runMailgw(['start', '-c', broken, '--run-dir', path.join(dir, 'run')])
    assert.equal(r.code, 1)
    assert.ok(r.stderr.startsWith(check.stderr), 'same messages as check-config')
    assert.match(r.stderr, /not starting because .*broken\.conf is invalid/)
  })

  it('unknown command prints usage', async () => {
    const r = await runMailgw(['frobnicate'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /unknown command "frobnicate"/)
    assert.match(r.stderr, /usage: mailgw/)
  })
})
