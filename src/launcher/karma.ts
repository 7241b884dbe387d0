// haraka-plugin-karma for the SpamCheckReputation sign, loaded only with Karma=true in
// [mailgw.antispam]. Karma records a score and does not decide. Its rejection threshold is out of
// reach, and our plugins' rejections are excluded from its interception.
// Its tarpit cannot be switched off through karma.ini, because Haraka merges karma's shipped
// [tarpit] section under ours and a zero delay selects the progressive tarpit. The static delay is
// therefore 1 ms. Karma keeps per-address history in Redis (the private one, or RedisServer).

import type { MailgwConfig } from '../config'
import { setIniValues } from './ini-edit'

/** Plugins whose DENY karma must pass through; karma's own defaults included. */
const DENY_EXCLUDED_PLUGINS = [
  'xclient',
  'tls',
  'mailgw_access',
  'mailgw_archive',
  'mailgw_policy',
  'mailgw_route',
  'mailgw_fastpath',
  'access',
  'attachment',
  'clamd',
  'headers',
  'helo.checks',
  'limit',
  'rspamd',
  'spamassassin',
  'send_email',
]

/** Karma's rejection threshold, far below any score its checks can reach. */
const NEVER_REJECT = -1000000

/** Seconds karma's tarpit delays each reply of a client with a negative score. */
const TARPIT_SECONDS = 0.001

/**
 * Computes karma.ini and redis.ini over the administrator's copies. `privateSocket` is the socket
 * of the private Redis that [mailgw.local] Redis=true starts.
 */
export function karmaFiles(config: MailgwConfig, existing: Record<string, string>, privateSocket: string): Record<string, string> {
  let karma = existing['karma.ini'] ?? ''
  karma = setIniValues(karma, 'thresholds', { negative: NEVER_REJECT })
  karma = setIniValues(karma, 'tarpit', { delay: TARPIT_SECONDS, max: TARPIT_SECONDS, max_msa: TARPIT_SECONDS })
  karma = setIniValues(karma, 'deny_excludes', { plugins: DENY_EXCLUDED_PLUGINS.join(', ') })

  const endpoint = redisEndpoint(config, privateSocket)
  let redis = existing['redis.ini'] ?? ''
  for (const section of ['server', 'pubsub']) redis = setIniValues(redis, section, endpoint)
  return { 'karma.ini': karma, 'redis.ini': redis }
}

/** Returns the redis.ini keys of the Redis that karma uses, or throws when there is none. */
function redisEndpoint(config: MailgwConfig, privateSocket: string): Record<string, string | number> {
  const shared = config.options.RedisServer
  if (shared) return shared.kind === 'unix' ? { path: shared.path } : { host: shared.host, port: shared.port }
  if (config.local.Redis) return { path: privateSocket }
  throw new Error('Karma=true in [mailgw.antispam] needs Redis: set Redis=true in [mailgw.local] or RedisServer in [mailgw.options], or set Karma=false')
}

/**
 * Adds redis and karma before mailgw_access (at the end when it is absent), unless listed. Karma
 * must come first because mailgw_access accepts recipients with OK, which ends the rcpt hooks.
 */
export function withKarma(plugins: readonly string[]): string[] {
  const names = plugins.map((l) => l.replace(/#.*/, '').trim())
  const missing = ['redis', 'karma'].filter((p) => !names.includes(p))
  const at = names.indexOf('mailgw_access')
  const list = [...plugins]
  list.splice(at === -1 ? list.length : at, 0, ...missing)
  return list
}
