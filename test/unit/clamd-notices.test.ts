import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { externalClamdNotices } from '../../src/av/local-clamd'
import { parseConfig, type MailgwConfig } from '../../src/config'

function config(antivirus: string): MailgwConfig {
  const text = `[mailgw.network]\nHostname=gw.example\nPostmaster=pm@example.com\nProtectedDomains=example.com\n\n[mailgw.antivirus]\n${antivirus}\n\n[mailgw.policy]\nCheckAV=true\n`
  const result = parseConfig(text, '/srv/mailgw/config/mailgw.conf')
  assert.ok(result.config, JSON.stringify(result.errors))
  return result.config
}

describe('externalClamdNotices', () => {
  it('names a missing clamd socket', () => {
    const notices = externalClamdNotices(config('ClamdSocket=/run/mailgw-test/no-such-clamd.sock'), '/nonexistent/clamd.conf')
    assert.ok(notices.some((n) => n.startsWith('no clamd socket at /run/mailgw-test/no-such-clamd.sock')), notices.join('\n'))
  })

  it('does not check a TCP socket for a file', () => {
    const notices = externalClamdNotices(config('ClamdSocket=127.0.0.1:3310'), '/nonexistent/clamd.conf')
    assert.ok(!notices.some((n) => n.startsWith('no clamd socket')), notices.join('\n'))
  })
})
