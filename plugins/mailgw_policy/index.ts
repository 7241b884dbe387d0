// mailgw_policy: hands each accepted message to the outbound queue.
// Hooks: queue and queue_outbound (the same handler, so a plugin that sets `relaying` cannot
// route mail around it). Every recipient's copy is written with enqueueCopies, all or nothing; the
// client gets 250 only after every queue file is on disk, and a 451 4.3.0 when a write fails.
// Recipients addressed to the gateway's postmaster are redirected to the Postmaster address.

import { promises as fs } from 'node:fs'
import { isPostmasterAddress } from '../../src/access/protected'
import { formatDecision } from '../../src/log/decision'
import { constants, DSN, safeHook } from '../shared/plugin'
import { gatewayConfig } from '../shared/runtime'
import { enqueueCopies } from './enqueue'

interface AddressModule {
  Address: new (address: string) => Haraka.Address
}

export function register(this: Haraka.Plugin): void {
  gatewayConfig()
  this.register_hook('queue', 'queue_message')
  this.register_hook('queue_outbound', 'queue_message')
}

export const queue_message = safeHook('queue', async function (this: Haraka.Plugin, connection: Haraka.Connection) {
  const txn = connection.transaction
  if (!txn) return { code: constants.denysoft, msg: 'No transaction to queue' }

  const config = gatewayConfig()
  const { Address } = require('@haraka/email-address') as AddressModule
  const recipients = txn.rcpt_to.map((r) =>
    isPostmasterAddress(r.user, r.host, config.network.Hostname) ? new Address(config.network.Postmaster) : r,
  )

  addMissingHeaders(txn, config.network.Hostname)

  const outbound = this.haraka_require('outbound') as Parameters<typeof enqueueCopies>[0]
  let queued
  try {
    queued = await enqueueCopies(
      outbound,
      config.forward.ForwardRoute,
      [{ transaction: txn, mailFrom: txn.mail_from, recipients, notes: { mailgw_origin: txn.uuid } }],
      (file) => fs.unlink(file),
    )
  } catch (err) {
    connection.logerror(this, `queue write failed for ${txn.uuid}: ${(err as Error).message}`)
    return { code: constants.denysoft, msg: DSN.create(451, 'Queue write failed, please try again later', 3, 0) }
  }

  for (const q of queued) {
    connection.loginfo(
      this,
      formatDecision({
        id: txn.uuid,
        verdict: 'accept',
        stage: 'queue',
        fields: {
          queue_id: q.uuid,
          from: `<${txn.mail_from.address}>`,
          to: q.recipients,
          route: q.route.kind === 'host' ? `${q.route.host}:${q.route.port}` : `mx:${q.route.domain}`,
        },
      }),
    )
  }
  // Haraka appends the transaction id to this text.
  return { code: constants.ok, msg: 'Message queued' }
})

function addMissingHeaders(txn: Haraka.Transaction, hostname: string): void {
  if (txn.header.get_all('Message-Id').length === 0) txn.add_header('Message-Id', `<${txn.uuid}@${hostname}>`)
  if (txn.header.get_all('Date').length === 0) txn.add_header('Date', new Date().toUTCString().replace('GMT', '+0000'))
}
