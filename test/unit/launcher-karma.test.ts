// The launcher's karma files and plugin list for Karma=true in [mailgw.antispam].

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { parseConfig } from '../../src/config'
import { harakaFiles } from '../../src/launcher/haraka-instance'
import { withKarma } from '../../src/launcher/karma'

const base = `[mailgw.network]
ListenOn=127.0.0.1:2525
Hostname=gw.example.com
Postmaster=postmaster@example.com
ProtectedDomains=example.com
%EXTRA%
[mailgw.policy]
`

function filesFor(extra: string, existing: Record<string, string> = {}) {
  const { config, errors } = parseConfig(base.replace('%EXTRA%', extra), '/etc/mailgw/config/mailgw.conf')
  assert.deepEqual(errors, [])
  return harakaFiles(config!, existing)
}

const plugins = (text: string) => text.split('\n').filter(Boolean)

describe('karma in the Haraka instance', () => {
  it('off by default', () => {
    const files = filesFor('[mailgw.local]\nRedis=true')
    assert.ok(!plugins(files['plugins']).includes('karma'))
    assert.equal(files['karma.ini'], undefined)
    assert.equal(files['redis.ini'], undefined)
  })

  it('administrator files kept when off', () => {
    const files = filesFor('', { 'karma.ini': '[thresholds]\nnegative=-3\n', 'redis.ini': '[server]\nport=6380\n' })
    assert.equal(files['karma.ini'], '[thresholds]\nnegative=-3\n')
    assert.equal(files['redis.ini'], '[server]\nport=6380\n')
  })

  it('private Redis socket', () => {
    const files = filesFor('[mailgw.local]\nRedis=true\n[mailgw.antispam]\nKarma=true')
    assert.deepEqual(plugins(files['plugins']).slice(0, 4), ['tls', 'redis', 'karma', 'mailgw_access'])
    assert.match(files['redis.ini'], /\[server\]\npath=\/etc\/mailgw\/var\/run\/redis\.sock/)
    assert.match(files['redis.ini'], /\[pubsub\]\npath=\/etc\/mailgw\/var\/run\/redis\.sock/)
  })

  it('karma records only', () => {
    const karma = filesFor('[mailgw.local]\nRedis=true\n[mailgw.antispam]\nKarma=true', { 'karma.ini': '[thresholds]\nnegative=-3\npositive=4\n' })['karma.ini']
    assert.match(karma, /^negative=-1000000$/m)
    assert.match(karma, /^positive=4$/m)
    assert.match(karma, /^delay=0\.001$/m)
    assert.match(karma, /^plugins=.*\bmailgw_access\b.*\bmailgw_policy\b/m)
  })

  it('RedisServer host and port', () => {
    const redis = filesFor('[mailgw.options]\nRedisServer=10.0.0.5:6379\n[mailgw.antispam]\nKarma=true')['redis.ini']
    assert.match(redis, /\[server\]\nhost=10\.0\.0\.5\nport=6379/)
  })

  it('no Redis: error', () => {
    assert.throws(() => filesFor('[mailgw.antispam]\nKarma=true'), /Karma=true in \[mailgw\.antispam\] needs Redis/)
  })

  it('withKarma keeps listed plugins', () => {
    assert.deepEqual(withKarma(['tls', 'karma', 'mailgw_access']), ['tls', 'karma', 'redis', 'mailgw_access'])
    assert.deepEqual(withKarma(['tls', 'queue/smtp_forward']), ['tls', 'queue/smtp_forward', 'redis', 'karma'])
    assert.deepEqual(withKarma(['redis', 'karma # ours', 'mailgw_access']), ['redis', 'karma # ours', 'mailgw_access'])
  })
})
