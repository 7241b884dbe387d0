import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseConfig } from '../../src/config'
import { harakaFiles } from '../../src/launcher/haraka-instance'

const base = `[mailgw.network]
ListenOn=127.0.0.1:2525
ListenOn=[::1]:2525
Hostname=gw.example.com
Postmaster=postmaster@example.com
ProtectedDomains=example.com
[mailgw.limits]
MaximalIncomingMessageSize=2048
MaximalIncomingHops=30
[mailgw.timeouts]
MinimalBackoffTime=60
MaximalBackoffTime=240
MaximalQueueLifetime=1
[mailgw.options]
Workers=2
QueuePath=/var/spool/mailgw
%EXTRA%
[mailgw.policy]
`

function filesFor(extra = '', existing: Record<string, string> = {}) {
  const { config, errors } = parseConfig(base.replace('%EXTRA%', extra), '/etc/mailgw/config/mailgw.conf')
  assert.deepEqual(errors, [])
  return harakaFiles(config!, existing)
}

describe('harakaFiles', () => {
  it('listen and workers go to smtp.ini', () => {
    const smtp = filesFor()['smtp.ini']
    assert.match(smtp, /^listen=127\.0\.0\.1:2525,\[::1\]:2525$/m)
    assert.match(smtp, /^nodes=2$/m)
  })

  it('Hostname becomes me', () => {
    assert.equal(filesFor()['me'], 'gw.example.com\n')
  })

  it('Haraka size and hop limits are off', () => {
    const conn = filesFor('', { 'connection.ini': '[message]\ngreeting=hi\n' })['connection.ini']
    assert.match(conn, /\[max\]\nbytes=0/)
    assert.match(conn, /\[headers\]\nmax_received=1000/)
    assert.match(conn, /\[message\]\ngreeting=hi/)
  })

  it('backoff becomes temp_fail_intervals', () => {
    assert.match(filesFor()['outbound.ini'], /^temp_fail_intervals=60s,120s,240s\*359$/m)
  })

  it('queue_dir is absolute', () => {
    assert.equal(filesFor()['queue_dir'], '/var/spool/mailgw\n')
  })

  it('Postmaster is the DSN sender', () => {
    assert.match(filesFor()['outbound.bounce_message'], /^From: Mail Delivery System <postmaster@example\.com>$/m)
  })

  it('xclient only when enabled', () => {
    assert.doesNotMatch(filesFor('', { plugins: 'xclient\nmailgw_access\n' })['plugins'], /xclient/)
    const enabled = filesFor('Xclient=true')
    assert.match(enabled['plugins'], /^xclient\n/)
    assert.equal(enabled['xclient.hosts'], '127.0.0.1\n::1\n')
  })
})
