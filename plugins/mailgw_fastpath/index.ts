// mailgw_fastpath: makes Haraka's outbound queue deliver without the delayed-ACK stall (see
// src/outbound/fast-socket.ts). Registers no hook. register() wraps `get_client` of Haraka's
// outbound client pool, the one place where outbound delivery opens its sockets, so every
// delivery socket is tuned right after it connects. Haraka's own files stay unchanged, and
// removing the plugin from config/plugins restores stock behaviour. Other Haraka sockets
// (smtp_forward, clamd, the SMTP server side) are left alone.

import { isTuned, tuneSocket, type PluggableSocket } from '../../src/outbound/fast-socket'

type GetClientCallback = (err: unknown, socket: PluggableSocket | null) => void

interface ClientPool {
  get_client(mx: unknown, callback: GetClientCallback): void
}

/** Marks Haraka's client pool module as wrapped: register() runs again on every config reload. */
const WRAPPED = Symbol.for('haraka-mailgw.fastpath-wrapped')

export function register(this: Haraka.Plugin): void {
  const pool = this.haraka_require('outbound/client_pool') as ClientPool & Record<symbol, unknown>
  if (pool[WRAPPED]) return

  const getClient = pool.get_client
  if (typeof getClient !== 'function') {
    this.logerror('outbound/client_pool has no get_client function; this Haraka version is not supported, delivery stays stock')
    return
  }

  pool.get_client = function (mx: unknown, callback: GetClientCallback): void {
    getClient.call(this, mx, (err, socket) => {
      if (!err && socket && !isTuned(socket)) tuneSocket(socket)
      callback(err, socket)
    })
  }
  pool[WRAPPED] = true
  this.loginfo('outbound delivery sockets use TCP_NODELAY with writes batched per event-loop tick')
}
