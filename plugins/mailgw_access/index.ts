// mailgw_access: decides at RCPT time which recipients the gateway accepts.
// Hooks: rcpt. A recipient whose domain is in ProtectedDomains is accepted; postmaster at the
// gateway's Hostname is accepted and redirected to the Postmaster address; every other
// recipient is rejected with 550 5.7.1, so the gateway is never an open relay. Each rejection is
// one decision log line. Errors answer 451 (safeHook), never an accept.

import { isPostmasterAddress, isProtectedDomain } from '../../src/access/protected'
import { formatDecision } from '../../src/log/decision'
import { constants, DSN, safeHook } from '../shared/plugin'
import { gatewayConfig } from '../shared/runtime'

export function register(this: Haraka.Plugin): void {
  gatewayConfig()
  this.register_hook('rcpt', 'check_rcpt')
}

export const check_rcpt = safeHook('rcpt', async function (this: Haraka.Plugin, connection: Haraka.Connection, params: unknown) {
  const [rcpt] = params as [Haraka.Address]
  const txn = connection.transaction
  const config = gatewayConfig()
  const { network } = config

  // The queue step redirects this recipient to the Postmaster address.
  if (isPostmasterAddress(rcpt.user, rcpt.host, network.Hostname)) return { code: constants.ok }

  if (rcpt.host && isProtectedDomain(network.ProtectedDomains, rcpt.host)) return { code: constants.ok }

  connection.loginfo(
    this,
    formatDecision({
      id: txn?.uuid ?? connection.uuid,
      verdict: 'reject',
      stage: 'rcpt',
      fields: {
        rule: 'ProtectedDomains',
        client: connection.remote.ip,
        from: `<${txn?.mail_from?.address ?? ''}>`,
        to: `<${rcpt.address}>`,
        reason: 'recipient domain is not protected and no rule allows relaying',
      },
    }),
  )
  return { code: constants.deny, msg: DSN.create(550, 'Relaying denied', 7, 1) }
})
