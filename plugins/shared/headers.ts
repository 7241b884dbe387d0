// Header changes the gateway makes to every accepted message: a Message-Id and a Date when the
// message lacks them, and no X-Haraka-Karma field (karma's score reaches the copies as an
// anti-spam sign instead). mailgw_access makes them in data_post before any plugin reads the
// message, so the message is read once, with its final header. A later call finds nothing to do.

import type { MailgwConfig } from '../../src/config'

/** Makes the header changes on the transaction; returns true when it changed anything. */
export function normaliseHeaders(txn: Haraka.Transaction, config: MailgwConfig): boolean {
  let changed = false
  if (txn.header.get_all('Message-Id').length === 0) {
    txn.add_header('Message-Id', `<${txn.uuid}@${config.network.Hostname}>`)
    changed = true
  }
  if (txn.header.get_all('Date').length === 0) {
    txn.add_header('Date', new Date().toUTCString().replace('GMT', '+0000'))
    changed = true
  }
  if (config.antispam.Karma && txn.header.get_all('X-Haraka-Karma').length > 0) {
    txn.remove_header('X-Haraka-Karma')
    changed = true
  }
  return changed
}
