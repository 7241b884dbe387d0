// mailgw_access: the gateway's first line of defence, decided at each SMTP stage before any
// message is accepted.
// Hooks and their checks:
//   connect       session limits, DNSBL, ConnectRule
//   capabilities  the SIZE extension
//   helo, ehlo    HeloRule
//   mail          queue space, messages per session, SIZE, MailfromRule
//   rcpt          recipients per message, RelayRule, ProtectedDomains, relay tricks (accepts with OK)
//   data          message size, hops, session size (data_post)
//   disconnect    releases the session count
// Notes: connection.notes.mailgw_dnsbl holds the DNSBL results of the client (DnsblResults in
// src/access/dnsbl.ts) for the anti-spam stage; connection.notes.mailgw_access is this plugin's.
// Each reject or tempfail is one decision log line. DNS failures never reject by themselves;
// any other error answers 451 (safeHook), never an accept.

import { normaliseHeaders } from '../shared/headers'
import { watchLauncher } from '../shared/launcher-watch'
import { limitSpoolBacklog } from '../shared/spool-flow'
import { safeHook } from '../shared/plugin'
import { gatewayConfig } from '../shared/runtime'
import { checkConnect, releaseSession } from './connect'
import { accessContext } from './context'
import { checkDataPost, startData } from './data'
import { advertiseSize, checkHelo } from './helo'
import { checkMail } from './mail'
import { checkRcpt } from './rcpt'

export function register(this: Haraka.Plugin): void {
  watchLauncher((message) => this.lognotice(message))
  const ctx = accessContext(gatewayConfig(), (m) => this.logerror(m))
  const { access } = ctx
  this.loginfo(
    `access rules: ${access.connect.length} ConnectRule, ${access.helo.length} HeloRule, ${access.mailfrom.length} MailfromRule, ` +
      `${access.relay.length} RelayRule; ${ctx.config.access.DNSBlackList.length} DNSBL zones; sessions counted in ${ctx.counterScope}`,
  )
  this.register_hook('connect', 'on_connect')
  this.register_hook('capabilities', 'on_capabilities')
  this.register_hook('helo', 'on_helo')
  this.register_hook('ehlo', 'on_helo')
  this.register_hook('mail', 'on_mail')
  this.register_hook('rcpt', 'on_rcpt')
  this.register_hook('data', 'on_data')
  this.register_hook('data_post', 'on_data_post')
  this.register_hook('disconnect', 'on_disconnect')
}

export const on_connect = safeHook('connect', async function (this: Haraka.Plugin, connection: Haraka.Connection) {
  return checkConnect(this, connection)
})

export function on_capabilities(this: Haraka.Plugin, next: Haraka.Next, connection: Haraka.Connection): void {
  advertiseSize(connection, gatewayConfig().limits.MaximalIncomingMessageSize)
  next()
}

export const on_helo = safeHook('helo', async function (this: Haraka.Plugin, connection: Haraka.Connection, hostname: unknown) {
  return checkHelo(this, connection, String(hostname ?? ''))
})

export const on_mail = safeHook('mail', async function (this: Haraka.Plugin, connection: Haraka.Connection, params: unknown) {
  return checkMail(this, connection, params)
})

export const on_rcpt = safeHook('rcpt', async function (this: Haraka.Plugin, connection: Haraka.Connection, params: unknown) {
  return checkRcpt(this, connection, params)
})

export const on_data = safeHook('data', async function (this: Haraka.Plugin, connection: Haraka.Connection) {
  const result = await startData(this, connection)
  if (result === undefined) limitSpoolBacklog(connection as unknown as Parameters<typeof limitSpoolBacklog>[0])
  return result
})

export const on_data_post = safeHook('data_post', async function (this: Haraka.Plugin, connection: Haraka.Connection) {
  const result = await checkDataPost(this, connection)
  // Done here, before the archive and policy plugins read the message, so it is read only once.
  if (result === undefined && connection.transaction) normaliseHeaders(connection.transaction, gatewayConfig())
  return result
})

export const on_disconnect = safeHook('disconnect', async function (this: Haraka.Plugin, connection: Haraka.Connection) {
  await releaseSession(this, connection)
})
