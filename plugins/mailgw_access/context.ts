// The per-process state of the access plugin, built once from mailgw.conf: compiled rules and
// networks, the DNS resolver, the session counter (Redis when the gateway has one, else this
// process) and the queue free-space probe.

import { compileAccess, type CompiledAccess } from '../../src/access/compile'
import { QueueSpace } from '../../src/access/queue-space'
import { LocalSessionCounter, RedisSessionCounter, type SessionCounter } from '../../src/access/session-counter'
import type { MailgwConfig } from '../../src/config'
import { Resolver } from '../../src/dns/resolver'
import { resolveBasePath } from '../../src/launcher/haraka-instance'
import { privateRedisSocket } from '../../src/launcher/redis-service'
import { InvalidConfigError } from '../shared/runtime'

export interface AccessContext {
  config: MailgwConfig
  access: CompiledAccess
  resolver: Resolver
  counter: SessionCounter
  /** Where the session counts live, for the start-up log line. */
  counterScope: string
  queueSpace: QueueSpace
}

let current: AccessContext | null = null

export function accessContext(config: MailgwConfig, logError: (message: string) => void): AccessContext {
  if (current && current.config === config) return current

  const baseDir = config.dir
  const { access, errors } = compileAccess(config.access, config.network.Network, baseDir)
  if (errors.length > 0) throw new InvalidConfigError(errors.map((e) => `${e.file}:${e.line}: ${e.message}`))

  const { timeouts } = config
  const resolver = new Resolver({
    servers: config.resolve.Nameserver,
    networkTimeout: timeouts.DNSNetworkTimeout,
    resolveTimeout: timeouts.DNSResolveTimeout,
    cacheMaxTtl: timeouts.DNSCacheMaximalTTL,
  })

  let counter: SessionCounter = new LocalSessionCounter()
  let counterScope = 'this process'
  const shared = config.options.RedisServer
  if (shared || config.local.Redis) {
    const target = shared
      ? shared.kind === 'unix'
        ? { path: shared.path }
        : { host: shared.host, port: shared.port }
      : { path: privateRedisSocket(resolveBasePath(config, '.')) }
    const where = target.path ?? `${target.host}:${target.port}`
    // A session renews its lease at every SMTP stage, and no stage may last longer than the
    // longest receiving timeout, so a live session never loses its place.
    const leaseSeconds =
      Math.max(timeouts.ReceivingCommandTimeout, timeouts.ReceivingDataInitiationTimeout, timeouts.ReceivingDataTerminationTimeout) + 60
    counter = new RedisSessionCounter({ target, leaseSeconds, onError: logError })
    counterScope = `Redis at ${where}`
  }

  const queueSpace = new QueueSpace(resolveBasePath(config, config.options.QueuePath))
  current = { config, access, resolver, counter, counterScope, queueSpace }
  return current
}
