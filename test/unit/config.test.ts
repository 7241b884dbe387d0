import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { describe, it } from 'node:test'

import type { MailgwConfig } from '../../src/config'
import { formatConfigError, loadConfig, parseConfig, renderDefaultConfig } from '../../src/config'

const FIXTURES = resolve(__dirname, '../../../test/fixtures/config')
const REPO = resolve(__dirname, '../../..')

const NETWORK = '[mailgw.network]\nHostname=mail.example.com\nPostmaster=postmaster@example.com\n'

/** Parses text that must be valid, with a minimal network section and policy in front. */
function valid(body: string, file = '/srv/mailgw/config/mailgw.conf'): MailgwConfig {
  const result = parseConfig(`${NETWORK}[mailgw.policy]\n${body}`, file)
  assert.deepEqual(result.errors.map(formatConfigError), [])
  assert.ok(result.config)
  return result.config
}

function fixture(name: string): MailgwConfig {
  const result = loadConfig(join(FIXTURES, name))
  assert.deepEqual(result.errors.map(formatConfigError), [], `errors in fixture ${name}`)
  assert.ok(result.config)
  return result.config
}

describe('config fixtures', () => {
  it('loads every fixture without errors', () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.conf'))
    assert.ok(files.length >= 15)
    for (const file of files) fixture(file)
  })

  it('loads the shipped default config', () => {
    const result = loadConfig(join(REPO, 'config/mailgw.conf'))
    assert.deepEqual(result.errors, [])
    const config = result.config as MailgwConfig
    assert.deepEqual(config.network.ListenOn, [{ host: '127.0.0.1', port: 2525 }])
    assert.deepEqual(config.network.ProtectedDomains, ['*'])
    assert.deepEqual(config.local.Mailbox, { host: '127.0.0.1', port: 2526 })
    assert.equal(config.local.MailboxPath, join(REPO, 'var/mailbox'))
    assert.deepEqual(config.forward.ForwardRoute[0].target, { kind: 'host', host: '127.0.0.1', port: 2526 })
    assert.equal(config.forward.ForwardRoute[0].mask, '*@*')
    assert.equal(config.local.Clamd, true)
    assert.equal(config.local.Redis, false)
  })

  it('accepts the generated default config', () => {
    const result = parseConfig(renderDefaultConfig(), '/srv/mailgw/config/mailgw.conf')
    assert.deepEqual(result.errors.map(formatConfigError), [])
  })

  it('whitelist recipe selects by ip and skips checks', () => {
    const config = fixture('kmg-whitelist-blacklist.conf')
    assert.equal(config.access.ConnectRule[0].text, 'deny for ip 10.10.138.99')
    assert.equal(config.access.ConnectRule[0].line, 11)
    const group = config.groups[0]
    assert.equal(group.name, 'whitelist')
    assert.deepEqual(group.Recipients, ['*@*'])
    assert.equal(group.Senders?.[0].kind, 'ip')
    assert.equal(group.Senders?.[0].kind === 'ip' && group.Senders[0].range, '10.10.0.0/16')
    assert.equal(group.settings.CheckSpam, false)
    assert.equal(group.settings.CheckAV, false)
    assert.equal(config.policy.CheckSpam, true)
  })

  it('block-spam recipe gives the group its own list', () => {
    const config = fixture('kmg-block-spam.conf')
    assert.deepEqual(config.policy.BlockMessage, ['as/spam'])
    assert.deepEqual(config.groups[0].settings.BlockMessage, ['as/spam', 'as/probable'])
    assert.deepEqual(config.groups[0].Recipients, ['*@managers.example.com'])
  })

  it('empty BlockMessage clears the default', () => {
    const config = fixture('kmg-av-clean-only.conf')
    assert.deepEqual(config.policy.BlockMessage, [])
    assert.equal(config.policy.AVCure, true)
    assert.equal(config.policy.ActionInfected, 'remove')
  })

  it('status lists accumulate over lines', () => {
    const config = fixture('kmg-av-block.conf')
    assert.deepEqual(config.policy.BlockMessage, ['av/infected', 'av/suspicious', 'av/protected', 'av/error'])
    assert.equal(config.policy.ActionInfected, 'pass')
  })

  it('quarantine recipe resolves an absolute path', () => {
    const config = fixture('kmg-av-quarantine.conf')
    assert.equal(config.policy.AVQuarantinePath, '/opt/quarantine')
    assert.deepEqual(config.policy.QuarantineMessage, ['av/infected', 'av/suspicious', 'av/protected', 'av/error'])
  })

  it('filter recipe keeps groups in file order', () => {
    const config = fixture('kmg-av-filter-groups.conf')
    assert.deepEqual(
      config.groups.map((g) => g.name),
      ['managers', 'accounts', 'sales'],
    )
    assert.deepEqual(config.groups[0].settings.IncludeByName, ['*.exe', '*.reg'])
    assert.deepEqual(config.groups[1].settings.ExcludeByName, ['*.doc'])
    assert.deepEqual(config.groups[1].settings.IncludeByName, [])
    assert.deepEqual(config.groups[2].settings.BlockMessage, ['av/filtered'])
    assert.equal(config.groups[2].settings.ActionFiltered, 'remove')
  })

  it('maximum speed recipe reads a list file', () => {
    const config = fixture('kmg-mode-maximum-speed.conf')
    assert.deepEqual(config.policy.IncludeByName, ['*.exe', '*.bat', '*.com', '*.scr', '*.bin', '*.dll'])
    assert.deepEqual(config.policy.MarkSubject, ['as/probable', 'as/formal', 'as/blacklisted'])
    assert.deepEqual(config.policy.BlockMessage, ['as/spam', 'av/infected', 'av/filtered'])
    assert.equal(config.policy.SpamRateLimit, 'minimum')
  })

  it('recommended recipe maps SpamDetection', () => {
    const config = fixture('kmg-mode-recommended.conf')
    assert.equal(config.policy.SpamRateLimit, 'standard')
    assert.equal(config.policy.ActionProtected, 'pass')
  })

  it('maximum protection expands as/all', () => {
    const config = fixture('kmg-mode-maximum-protection.conf')
    assert.deepEqual(config.policy.BlockMessage, ['as/spam', 'as/probable', 'as/formal', 'as/blacklisted'])
    assert.deepEqual(config.policy.NotifyAdmin, ['av/infected', 'av/suspicious', 'av/protected', 'av/error'])
    assert.equal(config.policy.SpamRateLimit, 'maximum')
  })

  it('group senders parse every kind', () => {
    const config = fixture('kmg-group-senders.conf')
    const senders = config.groups[0].Senders ?? []
    assert.deepEqual(
      senders.map((s) => s.kind),
      ['address', 'address', 'ip', 'ip', 'host', 'network'],
    )
    assert.deepEqual(senders[2].kind === 'ip' && senders[2].range, '192.168.0.1/32')
    assert.deepEqual(senders[3].kind === 'ip' && senders[3].range, '192.168.0.0/16')
    assert.deepEqual(senders[4].kind === 'host' && senders[4].mask, 'example.com')
    assert.deepEqual(senders[5].kind === 'network' && senders[5].name, 'MyNetwork')
    assert.equal(senders[0].line, 10)
    assert.deepEqual(config.groups[0].Recipients, ['*@management.local', 'help@helpdesk.local'])
    assert.deepEqual(config.network.Network[0].ranges, ['192.168.0.0/16', '10.0.0.0/8'])
  })

  it('network, forward, archive and updater keys load', () => {
    const config = fixture('kmg-network-forward-archive.conf')
    assert.deepEqual(config.network.ListenOn, [
      { host: '192.168.0.1', port: 25 },
      { host: '10.0.0.1', port: 25 },
    ])
    assert.deepEqual(
      config.forward.ForwardRoute.map((r) => r.target),
      [
        { kind: 'host', host: 'localhost', port: 1025 },
        { kind: 'host', host: 'somehost.example.com', port: 25 },
        { kind: 'mx', domain: 'example.com' },
      ],
    )
    assert.equal(config.archive.IncomingArchivePath, '/var/opt/kaspersky/mailgw/arch_in')
    assert.deepEqual(config.archive.IncomingBcc, ['archive@example.com'])
    assert.deepEqual(
      config.access.DNSBlackList.map((z) => [z.zone, z.rating]),
      [
        ['zen.example.org', 100],
        ['bl.example.net', 50],
      ],
    )
    assert.equal(config.policy.AdminNotifyAddress, 'admin@example.com')
    assert.equal(config.updaterOptions.KeepSilent, true)
    assert.equal(config.updaterReport.ReportLevel, 1)
  })

  it('smtpgw spelling names the same sections', () => {
    const config = fixture('smtpgw-spelling.conf')
    assert.deepEqual(config.network.ListenOn, [{ host: '::1', port: 2525 }])
    assert.equal(config.limits.MaximalIncomingMessageSize, 20480 * 1024)
    assert.deepEqual(config.policy.BlockMessage, ['av/infected', 'av/suspicious', 'av/protected', 'av/error', 'av/filtered'])
    assert.equal(config.groups[0].name, 'legacy')
    assert.deepEqual(config.groups[0].settings.NotifyAdmin, [
      'av/infected',
      'av/disinfected',
      'av/suspicious',
      'av/protected',
      'av/error',
      'av/filtered',
    ])
  })
})

describe('config defaults', () => {
  it('fills defaults in parsed units', () => {
    const config = valid('')
    assert.deepEqual(config.network.ListenOn, [{ host: '0.0.0.0', port: 25 }])
    assert.equal(config.limits.MaximalIncomingMessageSize, 10485760)
    assert.equal(config.limits.MaximalIncomingHops, 20)
    assert.equal(config.timeouts.MinimalBackoffTime, 1800)
    assert.equal(config.timeouts.MaximalBackoffTime, 21600)
    assert.equal(config.timeouts.MaximalQueueLifetime, 5 * 86400)
    assert.equal(config.options.Workers, 0)
    assert.equal(config.options.Xclient, false)
    assert.deepEqual(config.resolve.Nameserver, [])
    assert.equal(config.local.Mailbox, undefined)
    assert.equal(config.archive.IncomingArchivePath, undefined)
    assert.deepEqual(config.antivirus.ClamdSocket, { kind: 'unix', path: '/var/run/clamav/clamd.ctl' })
  })

  it('policy defaults block bad objects', () => {
    const config = valid('')
    assert.deepEqual(config.policy.BlockMessage, ['av/infected', 'av/suspicious', 'av/protected', 'av/error'])
    assert.equal(config.policy.SubjectLabelSpam, '[!! SPAM]')
    assert.equal(config.policy.SubjectLabelProbable, '[?? Probable Spam]')
    assert.equal(config.policy.SubjectLabelFormal, '[--Formal Message--]')
    assert.equal(config.policy.SubjectLabelBlacklisted, '[-- Blacklisted --]')
    assert.equal(config.policy.AdminNotifyAddress, 'postmaster@example.com')
    assert.equal(config.policy.NotifyFromAddress, 'postmaster@example.com')
  })

  it('resolves paths against their bases', () => {
    const config = valid('NotifyAdminTemplate=admin.tmpl\n', '/srv/mailgw/config/mailgw.conf')
    assert.equal(config.file, '/srv/mailgw/config/mailgw.conf')
    assert.equal(config.dir, '/srv/mailgw/config')
    assert.equal(config.options.QueuePath, '/srv/mailgw/var/queue')
    assert.equal(config.options.TemplatesPath, '/srv/mailgw/config/templates')
    assert.equal(config.policy.NotifyAdminTemplate, '/srv/mailgw/config/templates/admin.tmpl')
    assert.equal(config.policy.DsnTemplate, '/srv/mailgw/config/templates/dsn.tmpl')
    assert.equal(config.policy.AVQuarantinePath, '/srv/mailgw/var/quarantine/av')
  })

  it('config.dir is the directory of a relative file', () => {
    const result = parseConfig(`${NETWORK}[mailgw.policy]\n`, 'config/mailgw.conf')
    assert.equal(result.config?.file, resolve('config/mailgw.conf'))
    assert.equal(result.config?.dir, dirname(resolve('config/mailgw.conf')))
  })
})

describe('config values', () => {
  it('durations take unit suffixes', () => {
    const config = valid(
      '[mailgw.timeouts]\nMinimalBackoffTime=5s\nMaximalBackoffTime=2m\nMaximalQueueLifetime=15s\nReadTimeout=10m\nDNSCacheMaximalTTL=1d\n',
    )
    assert.equal(config.timeouts.MinimalBackoffTime, 5)
    assert.equal(config.timeouts.MaximalBackoffTime, 120)
    assert.equal(config.timeouts.MaximalQueueLifetime, 15)
    assert.equal(config.timeouts.ReadTimeout, 600)
    assert.equal(config.timeouts.DNSCacheMaximalTTL, 86400)
  })

  it('plain durations count the key unit', () => {
    const config = valid('[mailgw.timeouts]\nMaximalQueueLifetime=2\nMinimalBackoffTime=60\n')
    assert.equal(config.timeouts.MaximalQueueLifetime, 2 * 86400)
    assert.equal(config.timeouts.MinimalBackoffTime, 60)
  })

  it('sizes take suffixes', () => {
    const config = valid('[mailgw.limits]\nMaximalIncomingMessageSize=20M\nMinimalQueueFreeSpaceSize=100\n')
    assert.equal(config.limits.MaximalIncomingMessageSize, 20 * 1024 * 1024)
    assert.equal(config.limits.MinimalQueueFreeSpaceSize, 100 * 1024 * 1024)
  })

  it('booleans take every spelling', () => {
    for (const [text, expected] of [
      ['true', true],
      ['Yes', true],
      ['y', true],
      ['1', true],
      ['on', true],
      ['false', false],
      ['NO', false],
      ['n', false],
      ['0', false],
      ['off', false],
    ] as const) {
      const config = valid(`[mailgw.options]\nXclient=${text}\n`)
      assert.equal(config.options.Xclient, expected, text)
    }
  })

  it('keys match without regard to case', () => {
    const config = valid('[MAILGW.LIMITS]\nmaximalincominghops=7\n')
    assert.equal(config.limits.MaximalIncomingHops, 7)
  })

  it('comments start only at line start', () => {
    const config = valid('  # a comment\n ; another\nSubjectLabelSpam=[#1 spam; really]\n')
    assert.equal(config.policy.SubjectLabelSpam, '[#1 spam; really]')
  })

  it('ProtectedDomains take commas and repeats', () => {
    const config = valid('[mailgw.network]\nProtectedDomains=example.com, *.example.org,\nProtectedDomains=ex?mple.net\n')
    assert.deepEqual(config.network.ProtectedDomains, ['example.com', '*.example.org', 'ex?mple.net'])
  })

  it('Nameserver takes ports and IPv6', () => {
    const config = valid('[mailgw.resolve]\nNameserver=127.0.0.1:5353\nNameserver=::1\nNameserver=[::1]:5300\nNameserver=10.0.0.1\n')
    assert.deepEqual(config.resolve.Nameserver, [
      { host: '127.0.0.1', port: 5353 },
      { host: '::1', port: 53 },
      { host: '::1', port: 5300 },
      { host: '10.0.0.1', port: 53 },
    ])
  })

  it('ClamdSocket takes a path or HOST:PORT', () => {
    assert.deepEqual(valid('[mailgw.antivirus]\nClamdSocket=127.0.0.1:3310\n').antivirus.ClamdSocket, {
      kind: 'tcp',
      host: '127.0.0.1',
      port: 3310,
    })
    assert.deepEqual(valid('[mailgw.antivirus]\nClamdSocket=/run/clamd.sock\n').antivirus.ClamdSocket, {
      kind: 'unix',
      path: '/run/clamd.sock',
    })
  })

  it('status names expand and deduplicate', () => {
    const config = valid('NotifySender=av/all\nNotifyAdmin=none\nQuarantineMessage=spam,as/spam,infected,\n')
    assert.equal(config.policy.NotifySender.length, 8)
    assert.deepEqual(config.policy.NotifyAdmin, [])
    assert.deepEqual(config.policy.QuarantineMessage, ['as/spam', 'av/infected'])
  })

  it('named networks take IPv6', () => {
    const config = valid('[mailgw.network]\nNetwork=v6 2001:db8::/32,::1\n')
    assert.deepEqual(config.network.Network[0].ranges, ['2001:db8::/32', '::1/128'])
  })

  it('repeated sections continue', () => {
    const config = valid('[mailgw.limits]\nMaximalIncomingHops=7\n[mailgw.options]\nWorkers=2\n[mailgw.limits]\nIncomingSessions=9\n')
    assert.equal(config.limits.MaximalIncomingHops, 7)
    assert.equal(config.limits.IncomingSessions, 9)
  })
})

describe('config groups', () => {
  it('inherits missing keys from the policy', () => {
    const config = valid('ActionInfected=placeholder\nCheckSpam=false\n[mailgw.group:a]\nRecipients=*@a.example\nCheckSpam=true\n')
    const group = config.groups[0]
    assert.equal(group.settings.ActionInfected, 'placeholder')
    assert.equal(group.settings.CheckSpam, true)
    assert.ok(group.explicit.has('CheckSpam'))
    assert.ok(!group.explicit.has('ActionInfected'))
    assert.ok(!group.explicit.has('Recipients'))
  })

  it('inherits policy keys set after the group', () => {
    const config = valid('[mailgw.group:a]\nRecipients=*@a.example\n[mailgw.policy]\nSpamRateLimit=high\n')
    assert.equal(config.groups[0].settings.SpamRateLimit, 'high')
  })

  it('tells empty Senders from missing', () => {
    const config = valid('[mailgw.group:none]\nSenders=\n[mailgw.group:any]\nRecipients=*@x.example\n')
    assert.deepEqual(config.groups[0].Senders, [])
    assert.equal(config.groups[0].Recipients, undefined)
    assert.equal(config.groups[1].Senders, undefined)
    assert.ok(!('Senders' in config.groups[1]))
  })

  it('reports the group header line', () => {
    const config = valid('[mailgw.group:a]\nRecipients=*@a.example\n')
    assert.equal(config.groups[0].line, 5)
    assert.equal(config.groups[0].file, '/srv/mailgw/config/mailgw.conf')
  })
})
