// MaximalOutgoingSessionsPerHost: caps the connections that Haraka's outbound queue opens to one
// next hop at a time. Haraka 3.3.4 has no such setting, so this wraps get_client and
// release_client of its outbound/client_pool: a delivery that would exceed the cap waits, in
// arrival order, until a connection to that host is released. Other hosts are not held up.
// The count is per process, so the launcher divides the configured cap among Haraka workers.

type GetClientCallback = (err: unknown, socket: unknown) => void

export interface ClientPool {
  get_client(mx: MxLike, callback: GetClientCallback): void
  release_client(socket: unknown, mx: MxLike): void
}

export interface MxLike {
  exchange?: string
  port?: number
  path?: string
}

const HELD = Symbol('mailgw host slot')

interface HostState {
  active: number
  waiting: Array<() => void>
}

export function hostKey(mx: MxLike): string {
  return mx.path ? `unix:${mx.path}` : `${String(mx.exchange).toLowerCase()}:${mx.port ?? 25}`
}

/** Wraps the pool in place; returns a function that reports the connections open per host. */
export function limitConnectionsPerHost(pool: ClientPool, maxPerHost: number): () => Map<string, number> {
  const hosts = new Map<string, HostState>()
  const getClient = pool.get_client.bind(pool)
  const releaseClient = pool.release_client.bind(pool)

  const stateOf = (key: string): HostState => {
    let state = hosts.get(key)
    if (!state) {
      state = { active: 0, waiting: [] }
      hosts.set(key, state)
    }
    return state
  }

  const free = (key: string) => {
    const state = stateOf(key)
    state.active--
    const next = state.waiting.shift()
    if (next) next()
    else if (state.active === 0) hosts.delete(key)
  }

  // Frees the slot of a socket once, whichever of release_client and the socket's close comes first.
  const releaseOnce = (socket: Record<symbol, unknown>) => {
    const key = socket[HELD]
    if (typeof key !== 'string') return
    delete socket[HELD]
    free(key)
  }

  pool.get_client = (mx, callback) => {
    const key = hostKey(mx)
    const state = stateOf(key)
    const start = () => {
      state.active++
      getClient(mx, (err, socket) => {
        if (err || !socket) {
          free(key)
          return callback(err, socket)
        }
        const held = socket as Record<symbol, unknown> & { once?(event: string, fn: () => void): void }
        held[HELD] = key
        held.once?.('close', () => releaseOnce(held))
        callback(err, socket)
      })
    }
    if (state.active < maxPerHost) start()
    else state.waiting.push(start)
  }

  pool.release_client = (socket, mx) => {
    releaseOnce(socket as Record<symbol, unknown>)
    releaseClient(socket, mx)
  }

  return () => new Map([...hosts].map(([key, s]) => [key, s.active]))
}
