import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, describe, it } from 'node:test'

import { runExplain } from '../../src/cli/explain'

const CONF = `
[mailgw.network]
Hostname=gw.example.com
Postmaster=pm@example.com
Network=trusted 10.10.0.0/16

[mailgw.policy]
BlockMessage=as/spam

[mailgw.group:whitelist]
Recipients=*
Senders=network trusted
CheckSpam=false
CheckAV=false

[mailgw.group:managers]
Recipients=*@managers.example.com
BlockMessage=as/spam,as/probable
`

async function explain(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = []
  const err: string[] = []
  const code = await runExplain(args, { out: (l) => out.push(l), err: (l) => err.push(l) })
  return { code, out, err }
}

describe('mailgw explain', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailgw-explain-'))
  const file = path.join(dir, 'mailgw.conf')
  writeFileSync(file, CONF)
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('shows the group and rules per copy', async () => {
    const { code, out } = await explain(['-c', file, '--from', 'alice@outside.example', '--ip', '203.0.113.9', 'bob@corp.example', 'boss@managers.example.com', 'carl@corp.example'])
    assert.equal(code, 0)
    assert.ok(out.includes('bob@corp.example: group policy'))
    assert.ok(out.includes('  not managers: no Recipients mask matches'))
    assert.ok(out.some((l) => l.startsWith('boss@managers.example.com: group managers (')))
    assert.ok(out.includes('copy 1: group policy, recipients bob@corp.example, carl@corp.example'))
    assert.ok(out.includes('copy 2: group managers, recipients boss@managers.example.com'))
    assert.ok(out.includes('  BlockMessage=as/spam,as/probable (group)'))
    assert.ok(out.includes('  BlockMessage=as/spam (policy)'))
  })

  it('puts a trusted network in the whitelist', async () => {
    const { code, out } = await explain(['-c', file, '--from', '<>', '--ip', '10.10.4.4', 'boss@managers.example.com'])
    assert.equal(code, 0)
    assert.ok(out.includes('sender <> client 10.10.4.4'))
    assert.ok(out.some((l) => l.startsWith('boss@managers.example.com: group whitelist (')))
    assert.ok(out.includes('  CheckSpam=false (group)'))
    assert.ok(out.includes('  CheckAV=false (group)'))
  })

  it('rejects a missing client address', async () => {
    const { code, err } = await explain(['-c', file, '--from', 'a@b.example', 'x@y.example'])
    assert.equal(code, 2)
    assert.match(err[0], /--ip needs the client's IP address/)
  })
})
