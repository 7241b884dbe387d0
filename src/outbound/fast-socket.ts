// Removes the delayed-ACK stall from outgoing SMTP sockets. Haraka 3.3.4's outbound client writes
// each command, and the end-of-data dot, as separate small writes on a socket with Nagle's
// algorithm on. After the body, the dot waits until the receiver acknowledges the body, and a
// receiver with nothing to send yet delays that ACK (40 to 55 ms measured here), once per
// message. `tuneSocket` turns Nagle off (TCP_NODELAY) and gathers every write made in the same
// event-loop tick into one writev, so turning Nagle off does not send one small segment per
// write. The bytes written, their order and the write callbacks are unchanged.

/** The socket a Haraka pluggable stream currently writes to: the TCP socket, or TLS after STARTTLS. */
export interface TargetSocket {
  write(chunk: unknown, encoding?: unknown, callback?: unknown): boolean
  cork?(): void
  uncork?(): void
  setNoDelay?(noDelay?: boolean): unknown
  writableCorked?: number
}

/** Haraka's tls_socket pluggable stream, as far as this module uses it. */
export interface PluggableSocket {
  targetsocket: TargetSocket
  write(chunk: unknown, encoding?: unknown, callback?: unknown): boolean
}

/** Marks a socket already tuned, so a second call changes nothing. */
const TUNED = Symbol.for('haraka-mailgw.fast-socket')

/** Schedules the flush of a tick's writes; process.nextTick by default. */
export type Defer = (flush: () => void) => void

export function isTuned(socket: PluggableSocket): boolean {
  return (socket as unknown as Record<symbol, unknown>)[TUNED] === true
}

/**
 * Sets TCP_NODELAY on the socket's TCP connection and replaces its `write` with one that corks
 * the current target socket on the first write of a tick and uncorks it once the tick's
 * synchronous work is done. Call it right after connecting, before any TLS upgrade: the TLS
 * socket writes through the same TCP socket, so the setting stays in force.
 */
export function tuneSocket(socket: PluggableSocket, defer: Defer = process.nextTick): void {
  if (isTuned(socket)) return
  ;(socket as unknown as Record<symbol, unknown>)[TUNED] = true

  socket.targetsocket.setNoDelay?.(true)

  const write = socket.write
  let corked: TargetSocket | null = null

  socket.write = function (this: PluggableSocket, chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
    const target = this.targetsocket
    // The STARTTLS upgrade replaces the target with a stub whose write does nothing; only real
    // streams are corked.
    if (corked === null && typeof target.cork === 'function' && typeof target.uncork === 'function') {
      target.cork()
      corked = target
      defer(() => {
        const t = corked
        corked = null
        t?.uncork?.()
      })
    }
    return write.call(this, chunk, encoding, callback)
  }
}
