// Notifications and DSNs against the real gateway. Administrator, recipient and sender
// notifications arrive with their macros rendered, and a group's own templates serve that group's
// copy. The null sender and the probably forged sender of infected mail get none. A rejected
// recipient gives a DSN from the dsn template, which is also kept in the outgoing archive. A
// broken template stops `mailgw start` with FILE:LINE.

import assert from 'node:assert/strict'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'

import { startMailbox, type Mailbox, type ReceivedMessage } from '../../src/mailbox/server'
import { makeInstanceDir, runMailgw, startTestGateway, type TestGateway } from '../helpers/gateway'
import { freePort, sendMail } from '../helpers/smtp'
import { delay, ENGINE_MODULE, headerValues, infectedMessage, storeEntries, testMessage, waitUntil } from './archive-helpers'

function batMessage(subject: string): string {
  return testMessage(subject, ['--b1', 'Content-Type: text/plain', '', 'Script attached.', '--b1', 'Content-Type: application/octet-stream; name="run.bat"', 'Content-Disposition: attachment; filename="run.bat"', '', 'echo hello', '--b1--', ''].join('\r\n'), [
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
  ])
}

/** Builds a notification template of the vip group, with `kind` in its Subject so a test can tell the notices apart. */
function groupTemplate(kind: string): string {
  return [
    'From: VIP desk \\<%NOTIFY_FROM%\\>',
    'To: %NOTIFY_TO%',
    `Subject: [vip ${kind}] %SUBJECT%`,
    'Date: %DATE%',
    'Message-ID: %NOTIFY_MESSAGE_ID%',
    'MIME-Version: 1.0',
    '',
    'Group %GROUP% held a message for <FOR RECIPIENTS == "*">%RECIPIENTS% </FOR>as %QUARANTINE_ID%.',
    '',
  ].join('\n')
}

describe('notifications', () => {
  let gateway: TestGateway
  let sink: Mailbox
  const messages: ReceivedMessage[] = []
  const to = (address: string) => messages.filter((m) => m.to.includes(address))
  const body = (m: ReceivedMessage) => m.raw.toString('utf8')

  before(async () => {
    sink = await startMailbox({
      host: '127.0.0.1',
      port: await freePort(),
      onMessage: (m) => messages.push(m),
      reject: ({ to: rcpts }) => (rcpts.includes('nobody@corp.example') ? { code: 550, message: '5.1.1 nobody: no such user' } : null),
    })
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
OutgoingArchivePath=var/arch_out

[mailgw.policy]
BlockMessage=av/infected,av/filtered
QuarantineMessage=av/infected
IncludeByName=*.bat
NotifyAdmin=av/infected
NotifyRecipient=av/infected
NotifySender=av/infected,av/filtered
AdminNotifyAddress=secadmin@corp.example
NotifyFromAddress=mailgw@corp.example

[mailgw.group:vip]
Recipients=vip@corp.example
NotifyAdminTemplate=../vip-admin.tmpl
NotifyRecipientTemplate=../vip-recipient.tmpl
`
    gateway = await startTestGateway({
      conf,
      files: { 'engines.js': ENGINE_MODULE, 'vip-admin.tmpl': groupTemplate('admin'), 'vip-recipient.tmpl': groupTemplate('recipient') },
    })
  })

  after(async () => {
    await gateway?.stop()
    await sink?.close()
  })

  it('notifies admin and recipient of infected mail', async () => {
    const result = await sendMail({ port: gateway.port, from: 'alice@outside.example', to: ['staff@corp.example'], message: infectedMessage('infected-notify') })
    assert.equal(result.final?.code, 250)
    await waitUntil(() => to('secadmin@corp.example').length === 1 && to('staff@corp.example').length === 1, 'admin and recipient notifications')

    const quarantine = storeEntries(path.join(gateway.dir, 'var', 'quarantine', 'av'))
    assert.equal(quarantine.length, 1)
    const admin = to('secadmin@corp.example')[0]
    assert.equal(admin.from, 'mailgw@corp.example')
    assert.deepEqual(headerValues(admin.raw, 'Subject'), ['[mailgw] av/infected in message from alice@outside.example'])
    assert.deepEqual(headerValues(admin.raw, 'From'), ['Mail gateway gw.test.example <mailgw@corp.example>'])
    assert.match(body(admin), new RegExp(`mailgw maila -c \\S+mailgw\\.conf --send-id=${quarantine[0].id}`))
    assert.match(body(admin), /Client: {7}127\.0\.0\.1/)
    assert.match(body(admin), /Recipient: {4}<staff@corp\.example>/)
    assert.match(body(admin), /Subject: {6}infected-notify/)
    assert.match(body(admin), /tool\.exe \(application\/octet-stream, 12 bytes\)\r\n {4}status: infected, detected: Test\.Marker/)
    assert.match(body(admin), /blocked \(av\/infected\)/)
    assert.doesNotMatch(body(admin), /%[A-Z_]+%/, 'every macro is rendered')

    const recipient = to('staff@corp.example')[0]
    assert.deepEqual(headerValues(recipient.raw, 'Subject'), ['[mailgw] A message to you was checked: infected-notify'])
    assert.match(body(recipient), /To: {10}<staff@corp\.example>/)
    assert.match(body(recipient), /tool\.exe: infected \(Test\.Marker\)/)
  })

  it('does not notify the forged sender of infected mail', async () => {
    await gateway.waitForOutput(/no sender notification: the sender address of av\/infected mail is usually forged/)
    await delay(1000)
    assert.equal(to('alice@outside.example').length, 0)
  })

  it('notifies the sender of filtered mail', async () => {
    const result = await sendMail({ port: gateway.port, from: 'bob@outside.example', to: ['staff@corp.example'], message: batMessage('filtered-notify') })
    assert.equal(result.final?.code, 250)
    await waitUntil(() => to('bob@outside.example').length === 1, 'sender notification')
    const notice = to('bob@outside.example')[0]
    assert.deepEqual(headerValues(notice.raw, 'Subject'), ['[mailgw] Your message was checked: filtered-notify'])
    assert.deepEqual(headerValues(notice.raw, 'Auto-Submitted'), ['auto-replied'])
    assert.match(body(notice), /<staff@corp\.example>/)
    assert.match(body(notice), /run\.bat: filtered, action: remove/)
    assert.equal(headerValues(notice.raw, 'X-Mailgw-Loop').length, 1)
  })

  it('never notifies the null sender', async () => {
    const before = messages.length
    const result = await sendMail({ port: gateway.port, from: '', to: ['staff@corp.example'], message: batMessage('null-sender') })
    assert.equal(result.final?.code, 250)
    await gateway.waitForOutput(/no sender notification: the envelope sender is the null sender/)
    await delay(1500)
    assert.equal(messages.length, before)
  })

  it('archives the notifications', async () => {
    const outgoing = storeEntries(path.join(gateway.dir, 'var', 'arch_out'))
    const notices = outgoing.filter((e) => e.metadata.reasons.some((r) => r.includes('notification')))
    assert.deepEqual(notices.map((e) => e.metadata.reasons[0]).sort(), [
      'admin notification about av/infected',
      'recipient notification about av/infected',
      'sender notification about av/filtered',
    ])
  })

  it('sends a DSN from the dsn template', async () => {
    const result = await sendMail({ port: gateway.port, from: 'carol@outside.example', to: ['nobody@corp.example'], message: testMessage('dsn-check') })
    assert.equal(result.final?.code, 250)
    await waitUntil(() => to('carol@outside.example').length === 1, 'DSN')
    const dsn = to('carol@outside.example')[0]
    assert.equal(dsn.from, '')
    assert.deepEqual(headerValues(dsn.raw, 'Subject'), ['Undelivered Mail Returned to Sender: dsn-check'])
    assert.deepEqual(headerValues(dsn.raw, 'From'), ['Mail Delivery System <mailgw@corp.example>'])
    assert.match(headerValues(dsn.raw, 'Content-Type')[0], /^multipart\/report; report-type=delivery-status;/)
    assert.match(body(dsn), /<nobody@corp\.example>\r\n {4}Status: 5\.1\.1\r\n {4}Remote server: 127\.0\.0\.1\r\n {4}Reason: .*no such user/)
    assert.match(body(dsn), /Final-Recipient: rfc822; nobody@corp\.example\r\nAction: failed\r\nStatus: 5\.1\.1/)
    assert.match(body(dsn), /Content-Type: text\/rfc822-headers\r\n\r\n[^]*Subject: dsn-check/)
    assert.doesNotMatch(body(dsn), /Hello\./, 'the original body is not returned')
    await delay(1000)
    assert.equal(to('carol@outside.example').length, 1, 'Haraka sends no DSN of its own')
  })

  it('archives the DSN', async () => {
    const outgoing = storeEntries(path.join(gateway.dir, 'var', 'arch_out'))
    const dsns = outgoing.filter((e) => e.metadata.envelope.to.includes('carol@outside.example'))
    assert.equal(dsns.length, 1)
    const dsn = dsns[0]
    assert.deepEqual(dsn.metadata.status, ['outgoing'])
    assert.equal(dsn.metadata.envelope.from, '')
    assert.match(dsn.metadata.reasons[0], /^delivery status notification for \S+$/)
    assert.deepEqual(headerValues(Buffer.from(dsn.eml), 'Subject'), ['Undelivered Mail Returned to Sender: dsn-check'])
    assert.match(dsn.eml, /Final-Recipient: rfc822; nobody@corp\.example\r\nAction: failed\r\nStatus: 5\.1\.1/)

    // Haraka's outbound queue adds its own Received field in front of the archived bytes.
    const delivered = to('carol@outside.example')[0].raw.toString('utf8')
    assert.ok(delivered.endsWith(`\r\n${dsn.eml}`), 'the archive keeps the DSN as sent')
    const bounced = outgoing.filter((e) => e.metadata.envelope.to.includes('nobody@corp.example'))
    assert.equal(bounced.length, 1, 'the bounced copy stays in the archive')
  })

  it('caps the headers a DSN returns', async () => {
    // 900 fields of 250 bytes: about 225 KB that a forged sender wants reflected to its victim.
    const filler = Array.from({ length: 900 }, (_, i) => `X-Filler-${i}: ${'backscatter '.repeat(20)}`)
    const message = testMessage('dsn-flood', 'Hello.\r\n', filler)
    const result = await sendMail({ port: gateway.port, from: 'victim@evil.example', to: ['nobody@corp.example'], message })
    assert.equal(result.final?.code, 250)
    await waitUntil(() => to('victim@evil.example').length === 1, 'DSN')

    const dsn = to('victim@evil.example')[0]
    const text = body(dsn)
    assert.ok(dsn.raw.length < 32 * 1024, `DSN is ${dsn.raw.length} bytes`)
    assert.match(headerValues(dsn.raw, 'Content-Type')[0], /^multipart\/report; report-type=delivery-status;/)
    assert.match(text, /Content-Type: message\/delivery-status\r\n\r\n[^]*Final-Recipient: rfc822; nobody@corp\.example/)
    assert.equal(text.split('X-Filler-0:').length - 1, 1, 'the header fields are returned once')

    const returned = text.slice(text.indexOf('Content-Type: text/rfc822-headers\r\n\r\n'))
    assert.match(returned, /Subject: dsn-flood\r\n/)
    assert.match(returned, /\r\nX-Mailgw-Omitted: the header fields after the first 16384 bytes were left out\r\n\r\n--dsn-/)
    assert.doesNotMatch(returned, /X-Filler-899:/)
    assert.match(returned, /X-Filler-\d+: (backscatter ){20}\r\nX-Mailgw-Omitted:/, 'the cut is at a field boundary')
  })

  it('uses the templates of the group', async () => {
    const before = messages.length
    const result = await sendMail({ port: gateway.port, from: 'dave@outside.example', to: ['staff@corp.example', 'vip@corp.example'], message: infectedMessage('group-templates') })
    assert.equal(result.final?.code, 250)
    const received = (address: string) => messages.slice(before).filter((m) => m.to.includes(address))
    await waitUntil(() => received('secadmin@corp.example').length === 2 && received('vip@corp.example').length === 1 && received('staff@corp.example').length === 1, 'two admin and two recipient notifications')

    const quarantine = storeEntries(path.join(gateway.dir, 'var', 'quarantine', 'av')).filter((e) => e.eml.includes('group-templates'))
    const vipEntry = quarantine.find((e) => e.metadata.group === 'vip')
    assert.ok(vipEntry, 'the vip copy is quarantined')

    const vip = received('vip@corp.example')[0]
    assert.deepEqual(headerValues(vip.raw, 'Subject'), ['[vip recipient] group-templates'])
    assert.deepEqual(headerValues(vip.raw, 'From'), ['VIP desk <mailgw@corp.example>'])
    assert.match(body(vip), new RegExp(`Group vip held a message for vip@corp\\.example as ${vipEntry.id}\\.`))
    const staff = received('staff@corp.example')[0]
    assert.deepEqual(headerValues(staff.raw, 'Subject'), ['[mailgw] A message to you was checked: group-templates'], 'the policy copy gets the shipped template')

    const adminSubjects = received('secadmin@corp.example').map((m) => headerValues(m.raw, 'Subject')[0]).sort()
    assert.deepEqual(adminSubjects, ['[mailgw] av/infected in message from dave@outside.example', '[vip admin] group-templates'])
    const vipAdmin = received('secadmin@corp.example').find((m) => headerValues(m.raw, 'Subject')[0] === '[vip admin] group-templates')
    assert.match(body(vipAdmin as ReceivedMessage), new RegExp(`Group vip held a message for vip@corp\\.example as ${vipEntry.id}\\.`), 'the admin copy is about the vip copy only')
  })
})

describe('template check at start', () => {
  it('stops the start at a broken template', async () => {
    const dir = makeInstanceDir()
    const templates = path.join(dir, 'config', 'templates')
    mkdirSync(templates)
    writeFileSync(path.join(templates, 'admin.tmpl'), 'From: x\nSubject: y\n\nline\n<FOR NOTIFY_REASON == "*">\n%NOTIFY_REASON%\n')
    const conf = path.join(dir, 'config', 'mailgw.conf')
    const port = await freePort()
    writeFileSync(conf, `[mailgw.network]\nListenOn=127.0.0.1:${port}\nHostname=gw.test.example\nPostmaster=admin@corp.example\n\n[mailgw.policy]\n`)
    const result = await runMailgw(['start', '-c', conf, '--run-dir', path.join(dir, 'run')])
    rmSync(dir, { recursive: true, force: true })
    assert.equal(result.code, 1)
    assert.match(result.stderr, new RegExp(`${templates.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/admin\\.tmpl:5: <FOR NOTIFY_REASON \\.\\.\\.> is not closed`))
    assert.match(result.stderr, /not starting because a notification template is invalid/)
  })
})
