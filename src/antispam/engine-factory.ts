// Builds the built-in anti-spam engine from mailgw.conf, as an engine factory for loadEngines()
// (`createAntiSpamEngines`) and as an EngineModule= module (`createEngines`). The engine gets its
// own resolver with the [mailgw.resolve] nameservers and the DNS timeouts of [mailgw.timeouts];
// rspamd is used for content when SpamEngine=rspamd in [mailgw.antispam].

import type { EngineFactoryContext } from '../pipeline/engine-loader'
import type { EngineSet } from '../pipeline/engines'
import { Resolver } from '../dns/resolver'
import { BuiltinAntiSpamEngine } from './engine'

export function createAntiSpamEngines({ config }: EngineFactoryContext): Partial<EngineSet> {
  const { timeouts, antispam } = config
  const resolver = new Resolver({
    servers: config.resolve.Nameserver,
    networkTimeout: timeouts.DNSNetworkTimeout,
    resolveTimeout: timeouts.DNSResolveTimeout,
    cacheMaxTtl: timeouts.DNSCacheMaximalTTL,
  })
  const engine = new BuiltinAntiSpamEngine({
    dns: {
      resolver,
      dnsblZones: config.access.DNSBlackList.map(({ zone, rating }) => ({ zone, rating })),
      uriZones: antispam.UriBlackList,
      spfTimeoutMs: timeouts.DNSResolveTimeout * 1000,
    },
    rspamd: antispam.SpamEngine === 'rspamd' ? { url: antispam.RspamdUrl, timeoutMs: antispam.RspamdTimeout * 1000 } : null,
  })
  return { antispam: engine }
}

export const createEngines = createAntiSpamEngines
