// Notification decisions, rendering with the shipped templates, the loop mark and the DSN.

import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, it } from 'node:test'

import libqp from 'libqp'

import { hasOwnLoopMark, loadLoopKey, loopMarkValue } from '../../src/archive/loop-mark'
import { buildDsn } from '../../src/notify/dsn'
import { messageFacts } from '../../src/notify/message-facts'
import { actionList, planNotifications, renderNotification, type NotifyCopy, type NotifyMessage, type NotifySettings } from '../../src/notify/notifier'
import { loadTemplate } from '../../src/notify/template'
import { checkConfiguredTemplates, shippedTemplateDir } from '../../src/notify/template-config'

const RAW = Buffer.from(
  'From: Alice <alice@outside.example>\r\nTo: staff@corp.example\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n  again\r\nMessage-ID: <m1@outside.example>\r\n\r\nHello.\r\n',
)

function message(overrides: Partial<NotifyMessage> = {}): NotifyMessage {
  return { transaction: 'TXN-1', mailFrom: 'alice@outside.example', clientIp: '192.0.2.7', clientHost: null, helo: 'client.example', facts: messageFacts(RAW), ownMark: false, ...overrides }
}

function copy(overrides: Partial<NotifyCopy> = {}): NotifyCopy {
  return {
    copy: 1,
    group: 'policy',
    recipients: ['staff@corp.example', 'boss@corp.example'],
    delivered: false,
    statuses: ['av/infected'],
    spam: null,
    objects: [{ id: '2', filename: 'tool.exe', contentType: 'application/octet-stream', size: 12, status: 'av/infected', detail: 'Test.Marker', action: 'remove' }],
    block: ['av/infected'],
    notifyAdmin: ['av/infected'],
    notifyRecipient: ['av/infected'],
    notifySender: ['av/infected'],
    quarantineIds: ['abcdef0123456789'],
    changes: [],
    ...overrides,
  }
}

const SETTINGS: NotifySettings = { AdminNotifyAddress: 'secadmin@corp.example', NotifyFromAddress: 'mailgw@corp.example', NotifyProbablyForgedSender: false }

describe('notification plan', () => {
  it('notifies admin and each recipient', () => {
    const { plans } = planNotifications(message(), copy(), SETTINGS)
    assert.deepEqual(
      plans.map((p) => `${p.kind} ${p.to}`),
      ['admin secadmin@corp.example', 'recipient staff@corp.example', 'recipient boss@corp.example'],
    )
  })

  it('skips the forged sender of infected mail', () => {
    const { plans, skipped } = planNotifications(message(), copy(), SETTINGS)
    assert.ok(!plans.some((p) => p.kind === 'sender'))
    assert.match(skipped[0], /usually forged \(NotifyProbablyForgedSender=false\)/)
  })

  it('notifies a forged sender when asked', () => {
    const { plans } = planNotifications(message(), copy(), { ...SETTINGS, NotifyProbablyForgedSender: true })
    assert.ok(plans.some((p) => p.kind === 'sender' && p.to === 'alice@outside.example'))
  })

  it('notifies the sender of filtered mail', () => {
    const filtered = copy({ statuses: ['av/filtered'], notifySender: ['av/filtered'], notifyAdmin: [], notifyRecipient: [] })
    const { plans } = planNotifications(message(), filtered, SETTINGS)
    assert.deepEqual(plans, [{ kind: 'sender', to: 'alice@outside.example', reasons: ['av/filtered'] }])
  })

  it('never notifies the null sender', () => {
    const filtered = copy({ statuses: ['av/filtered'], notifySender: ['av/filtered'] })
    const { plans, skipped } = planNotifications(message({ mailFrom: '' }), filtered, SETTINGS)
    assert.ok(!plans.some((p) => p.kind === 'sender'))
    assert.deepEqual(skipped, ['no sender notification: the envelope sender is the null sender'])
  })

  it('skips automatic mail and the notification address', () => {
    const filtered = copy({ statuses: ['av/filtered'], notifySender: ['av/filtered'] })
    const auto = messageFacts(Buffer.from('Auto-Submitted: auto-replied\r\nSubject: x\r\n\r\n'))
    assert.match(planNotifications(message({ facts: auto }), filtered, SETTINGS).skipped[0], /automatic/)
    assert.match(planNotifications(message({ mailFrom: 'MAILGW@corp.example' }), filtered, SETTINGS).skipped[0], /notification address/)
    const manual = messageFacts(Buffer.from('Auto-Submitted: no\r\nSubject: x\r\n\r\n'))
    assert.equal(planNotifications(message({ facts: manual }), filtered, SETTINGS).skipped.length, 0)
  })

  it('sends nothing about its own notifications', () => {
    const result = planNotifications(message({ ownMark: true }), copy(), SETTINGS)
    assert.deepEqual(result.plans, [])
  })

  it('lists the actions taken', () => {
    assert.deepEqual(actionList(copy({ changes: ['subject', 'remove:2'] })), ['blocked (av/infected)', 'quarantined as abcdef0123456789', 'subject marked', 'object 2 removed'])
  })
})

describe('notification rendering', () => {
  const key = Buffer.alloc(32, 7)
  const context = { hostname: 'gw.test.example', postmaster: 'admin@corp.example', version: 'haraka-mailgw 0.1.0', now: new Date('2026-12-04T10:00:00Z'), configFile: '/etc/mailgw/config/mailgw.conf' }

  it('renders the shipped admin template', () => {
    const template = loadTemplate(path.join(shippedTemplateDir(), 'admin.tmpl'))
    const [plan] = planNotifications(message(), copy(), SETTINGS).plans
    const rendered = renderNotification(plan, message(), copy(), template, SETTINGS, context, key)
    const text = rendered.content.toString('utf8')
    const body = libqp.decode(text.slice(text.indexOf('\r\n\r\n'))).toString('utf8')
    assert.match(text, /^Content-Transfer-Encoding: quoted-printable$/m)
    assert.match(text, /^X-Mailgw-Loop: gw\.test\.example [0-9a-f]{32}\r\n/)
    assert.match(text, /\r\nTo: secadmin@corp\.example\r\n/)
    assert.match(text, new RegExp(`\\r\\nMessage-ID: ${rendered.messageId.replace(/[.<>]/g, '\\$&')}\\r\\n`))
    assert.match(body, /Subject: {6}Grüße again/)
    assert.match(body, /mailgw maila -c \/etc\/mailgw\/config\/mailgw\.conf --send-id=abcdef0123456789/)
    assert.match(body, /Date: {9}Fri, 04 Dec 2026 10:00:00 \+0000/)
    assert.doesNotMatch(body, /%[A-Z_]+%/)
  })

  it('marks a notification it can recognise', () => {
    const value = loopMarkValue(key, 'gw.test.example', '<n1@gw.test.example>')
    assert.ok(hasOwnLoopMark(key, 'gw.test.example', '<n1@gw.test.example>', [value]))
    assert.ok(!hasOwnLoopMark(key, 'gw.test.example', '<n2@gw.test.example>', [value]), 'bound to the Message-ID')
    assert.ok(!hasOwnLoopMark(Buffer.alloc(32, 8), 'gw.test.example', '<n1@gw.test.example>', [value]), 'bound to the key')
    assert.ok(!hasOwnLoopMark(key, 'gw.test.example', '<n1@gw.test.example>', ['gw.test.example 00000000000000000000000000000000']))
  })

  it('creates the loop key once', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'loop-key-'))
    try {
      const file = path.join(dir, 'var', 'loop-mark.key')
      const first = loadLoopKey(file)
      assert.equal(first.length, 32)
      assert.deepEqual(loadLoopKey(file), first)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('dsn', () => {
  it('builds a multipart report', () => {
    const template = loadTemplate(path.join(shippedTemplateDir(), 'dsn.tmpl'))
    const facts = messageFacts(RAW)
    const { content } = buildDsn(template, {
      hostname: 'gw.test.example',
      postmaster: 'admin@corp.example',
      notifyFrom: 'admin@corp.example',
      version: 'haraka-mailgw 0.1.0',
      now: new Date('2026-12-04T10:00:00Z'),
      to: 'alice@outside.example',
      transaction: 'TXN-1.1',
      arrival: new Date('2026-12-04T09:00:00Z'),
      failed: [{ address: 'nobody@corp.example', status: '5.1.1', reason: 'no such user', remoteHost: 'mx.corp.example', smtpCode: 550 }],
      facts,
      originalHeaders: RAW.toString().split('\r\n\r\n')[0],
    })
    const text = content.toString('utf8')
    const boundary = /boundary="([^"]+)"/.exec(text)?.[1]
    assert.ok(boundary)
    assert.equal(text.split(`--${boundary}\r\n`).length, 4, 'three parts')
    assert.match(text, /^Content-Type: multipart\/report; report-type=delivery-status;/m)
    assert.match(text, /^To: alice@outside\.example$/m)
    assert.match(text, /Final-Recipient: rfc822; nobody@corp\.example\r\nAction: failed\r\nStatus: 5\.1\.1\r\nRemote-MTA: dns; mx\.corp\.example\r\nDiagnostic-Code: smtp; 550 no such user/)
    assert.match(text, /Content-Type: text\/rfc822-headers\r\n\r\nFrom: Alice/)
    assert.ok(text.endsWith(`--${boundary}--\r\n`))
    assert.doesNotMatch(text, /Hello\./)
  })
})

describe('configured templates', () => {
  it('accepts the shipped templates', () => {
    const settings = { NotifyAdminTemplate: '/nonexistent/admin.tmpl', NotifyRecipientTemplate: '/nonexistent/recipient.tmpl', NotifySenderTemplate: '/nonexistent/sender.tmpl', PlaceholderTemplate: '/nonexistent/placeholder.tmpl', DsnTemplate: '/nonexistent/dsn.tmpl' }
    assert.deepEqual(checkConfiguredTemplates({ policy: settings as never, groups: [] }), [])
  })

  it('reports a missing named template', () => {
    const settings = { NotifyAdminTemplate: '/nonexistent/custom.tmpl', NotifyRecipientTemplate: '/nonexistent/recipient.tmpl', NotifySenderTemplate: '/nonexistent/sender.tmpl', PlaceholderTemplate: '/nonexistent/placeholder.tmpl', DsnTemplate: '/nonexistent/dsn.tmpl' }
    const errors = checkConfiguredTemplates({ policy: settings as never, groups: [] })
    assert.equal(errors.length, 1)
    assert.match(errors[0], /^\/nonexistent\/custom\.tmpl: template of NotifyAdminTemplate in \[mailgw\.policy\] cannot be read: ENOENT/)
  })
})
