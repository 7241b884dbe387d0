// `mailgw maila` against the stores of a real gateway: list, show, send through the gateway, send
// without checks, remove, with the exact output lines and exit codes, and hostile ids rejected
// before any path is built.

import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'

import { runMailgw, startTestGateway, type TestGateway } from '../helpers/gateway'
import { startSink, type Sink } from '../helpers/sink'
import { freePort, sendMail } from '../helpers/smtp'
import { delay, ENGINE_MODULE, headerValues, infectedMessage, storeEntries, testMessage, waitUntil } from './archive-helpers'

const DATE = String.raw`\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}`

describe('mailgw maila', () => {
  let gateway: TestGateway
  let sink: Sink
  let quarantine: string
  let incoming: string
  let infectedId: string
  const maila = (...args: string[]) => runMailgw(['maila', ...args])

  before(async () => {
    sink = await startSink(await freePort())
    const conf = `
[mailgw.network]
ListenOn=127.0.0.1:%PORT%
Hostname=gw.test.example
Postmaster=admin@corp.example
ProtectedDomains=corp.example

[mailgw.forward]
ForwardRoute=* [127.0.0.1:${sink.port}]

[mailgw.options]
EngineModule=engines.js

[mailgw.archive]
IncomingArchivePath=var/arch_in

[mailgw.policy]
BlockMessage=av/infected
QuarantineMessage=av/infected
NotifyAdmin=none
NotifyRecipient=none
`
    gateway = await startTestGateway({ conf, files: { 'engines.js': ENGINE_MODULE } })
    quarantine = path.join(gateway.dir, 'var', 'quarantine', 'av')
    incoming = path.join(gateway.dir, 'var', 'arch_in')

    for (const message of [infectedMessage('held-one'), testMessage('clean-two')]) {
      const result = await sendMail({ port: gateway.port, from: 'alice@outside.example', to: ['staff@corp.example'], message })
      assert.equal(result.final?.code, 250)
    }
    await sink.waitFor(1)
    infectedId = storeEntries(quarantine)[0].id
  })

  after(async () => {
    await gateway?.stop()
    await sink?.close()
  })

  it('lists a store', async () => {
    const result = await maila('--show-all', `--archive-path=${quarantine}`)
    assert.equal(result.code, 0, result.stderr)
    const lines = result.stdout.trimEnd().split('\n')
    const size = storeEntries(quarantine)[0].metadata.size
    assert.equal(lines.length, 2)
    assert.match(lines[0], new RegExp(`^${infectedId} av/infected ${size} ${DATE} 127\\.0\\.0\\.1 <alice@outside\\.example> -> <staff@corp\\.example>$`))
    assert.equal(lines[1], `Total: 1 archived messages, ${size} bytes.`)
  })

  it('lists the stores of mailgw.conf', async () => {
    const result = await maila('-c', gateway.configFile, '--show-all')
    assert.equal(result.code, 0, result.stderr)
    const lines = result.stdout.trimEnd().split('\n')
    assert.equal(lines.filter((l) => / incoming \d+ /.test(l)).length, 2)
    assert.equal(lines.filter((l) => / av\/infected \d+ /.test(l)).length, 1)
    assert.match(lines[lines.length - 1], /^Total: 3 archived messages, \d+ bytes\.$/)
  })

  it('shows one message', async () => {
    const result = await maila('-c', gateway.configFile, `--show-id=${infectedId}`)
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, new RegExp(`^ID: ${infectedId}\nStore: ${quarantine}\nStatus: av/infected\nSize: \\d+ bytes\nDate: ${DATE}\nClient: 127\\.0\\.0\\.1\nSender: <alice@outside\\.example>\nRecipients: <staff@corp\\.example>\nGroup: policy\n`))
    assert.match(result.stdout, /^Reason: av\/infected is in QuarantineMessage of group policy$/m)
    assert.match(result.stdout, /^Subject: held-one$/m)
    assert.doesNotMatch(result.stdout, /VIRUS-MARKER/, 'the body is not shown')
  })

  it('rejects hostile ids before building a path', async () => {
    const before = readdirSync(quarantine).sort()
    for (const option of ['--show-id', '--send-id', '--send-id-without-check', '--remove-id']) {
      for (const id of ['../../etc/passwd', `../av/${infectedId}`, 'short', '']) {
        const result = await maila(`${option}=${id}`, `--archive-path=${quarantine}`)
        assert.equal(result.code, 1, `${option}=${id}`)
        assert.match(result.stderr, /invalid id .*: an id is 8 to 40 letters and digits/)
        assert.equal(result.stdout, '')
      }
    }
    assert.deepEqual(readdirSync(quarantine).sort(), before)
  })

  it('reports errors with their exit codes', async () => {
    assert.equal((await maila('--show-id=abcdef0123456789', `--archive-path=${quarantine}`)).code, 4)
    assert.equal((await maila('--show-all', `--archive-path=${path.join(os.tmpdir(), 'mailgw-no-such-store')}`)).code, 2)
    assert.equal((await maila(`--archive-path=${quarantine}`)).code, 1)
    assert.equal((await maila('--show-all', '--remove-all', `--archive-path=${quarantine}`)).code, 1)
    assert.equal((await maila('--remove-all', '-c', gateway.configFile)).code, 1, '--remove-all needs --archive-path')
  })

  it('sends a message through the gateway again', async () => {
    const clean = storeEntries(incoming).find((e) => e.eml.includes('clean-two'))
    assert.ok(clean)
    const before = sink.messages.length
    const result = await maila('-c', gateway.configFile, `--send-id=${clean.id}`)
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, new RegExp(`^${clean.id}: sent through the gateway to <staff@corp\\.example>: 250 `))
    await sink.waitFor(before + 1)
    const resent = sink.messages[before]
    assert.deepEqual(resent.to, ['staff@corp.example'])
    assert.match(headerValues(resent.raw, 'X-Anti-Virus')[0] ?? '', /check: \d{8} clean$/, 'it was scanned again')
    const metadata = JSON.parse(readFileSync(path.join(incoming, `${clean.id}.json`), 'utf8'))
    assert.equal(metadata.released.length, 1)
    assert.equal(metadata.released[0].checked, true)
  })

  it('sends an infected message through the gateway into quarantine again', async () => {
    const result = await maila(`--archive-path=${quarantine}`, '-c', gateway.configFile, `--send-id=${infectedId}`)
    assert.equal(result.code, 0, result.stderr)
    await waitUntil(() => storeEntries(quarantine).length === 2, 'a second quarantine entry')
  })

  it('sends a message without checks', async () => {
    const before = sink.messages.length
    const result = await maila('-c', gateway.configFile, `--send-id-without-check=${infectedId}`)
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, new RegExp(`^${infectedId}: sent without checks to <staff@corp\\.example>: 127\\.0\\.0\\.1:${sink.port}: 250`))
    await sink.waitFor(before + 1)
    const released = sink.messages[before]
    const stored = readFileSync(path.join(quarantine, `${infectedId}.eml`))
    assert.deepEqual(released.raw, stored, 'it arrives with the original content')
    assert.deepEqual(released.to, ['staff@corp.example'])
    assert.equal(released.from, 'alice@outside.example')

    const metadata = JSON.parse(readFileSync(path.join(quarantine, `${infectedId}.json`), 'utf8'))
    const release = metadata.released[metadata.released.length - 1]
    assert.equal(release.checked, false)
    assert.equal(release.by, os.userInfo().username)
    assert.ok(Date.now() - Date.parse(release.at) < 60000)
    const shown = await maila(`--archive-path=${quarantine}`, `--show-id=${infectedId}`)
    assert.match(shown.stdout, new RegExp(`^Released: ${DATE} by ${os.userInfo().username} without checks to <staff@corp\\.example>: `, 'm'))
  })

  it('sends a whole store through the gateway', async () => {
    // The incoming archive now contains clean and infected messages, so the resent copies either
    // arrive at the sink or go to the quarantine again.
    const entries = storeEntries(incoming).sort((a, b) => a.metadata.arrival.localeCompare(b.metadata.arrival))
    const clean = entries.filter((e) => e.eml.includes('clean-two'))
    const infected = entries.filter((e) => e.eml.includes('VIRUS-MARKER'))
    assert.ok(clean.length >= 1, 'the store contains a clean message')
    assert.ok(infected.length >= 1, 'the store contains an infected message')
    assert.equal(clean.length + infected.length, entries.length)
    const sinkBefore = sink.messages.length
    const quarantineBefore = storeEntries(quarantine).length

    const result = await maila('-c', gateway.configFile, `--archive-path=${incoming}`, '--send-all')
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.stderr, '', 'no progress output for a pipe')
    const lines = result.stdout.trimEnd().split('\n')
    assert.equal(lines.length, entries.length + 1)
    for (const [index, entry] of entries.entries()) {
      assert.match(lines[index], new RegExp(`^${entry.id}: sent through the gateway to <staff@corp\\.example>: 250 [^\\n]+$`))
    }
    assert.equal(lines[entries.length], `Total: ${entries.length} of ${entries.length} archived messages sent.`)

    await sink.waitFor(sinkBefore + clean.length)
    await waitUntil(() => storeEntries(quarantine).length === quarantineBefore + infected.length, 'the infected messages quarantined again')
    await delay(1000)
    const resent = sink.messages.slice(sinkBefore)
    assert.equal(resent.length, clean.length, 'only the clean messages are delivered')
    for (const message of resent) {
      assert.deepEqual(headerValues(message.raw, 'Subject'), ['clean-two'])
      assert.match(headerValues(message.raw, 'X-Anti-Virus')[0] ?? '', /check: \d{8} clean$/)
    }

    for (const entry of entries) {
      const released = storeEntries(incoming).find((e) => e.id === entry.id)?.metadata.released as { checked: boolean; to: string[]; reply: string; by: string }[]
      const before = entry.metadata.released?.length ?? 0
      assert.equal(released.length, before + 1, `${entry.id} has one more release`)
      const release = released[released.length - 1]
      assert.equal(release.checked, true)
      assert.deepEqual(release.to, ['staff@corp.example'])
      assert.equal(release.by, os.userInfo().username)
      assert.match(release.reply, /^250 /)
    }
  })

  it('removes one and then all messages', async () => {
    const removed = await maila(`--archive-path=${quarantine}`, `--remove-id=${infectedId}`)
    assert.equal(removed.code, 0, removed.stderr)
    assert.equal(removed.stdout, `Removed ${infectedId}.\n`)
    assert.equal((await maila(`--archive-path=${quarantine}`, `--remove-id=${infectedId}`)).code, 4)

    const rest = storeEntries(quarantine)
    const all = await maila(`--archive-path=${quarantine}`, '--remove-all')
    assert.equal(all.code, 0, all.stderr)
    assert.equal(all.stdout, `Removed ${rest.length} archived messages, ${rest.reduce((n, e) => n + e.metadata.size, 0)} bytes.\n`)
    const list = await maila('--show-all', `--archive-path=${quarantine}`)
    assert.equal(list.stdout, 'Total: 0 archived messages, 0 bytes.\n')
  })
})
