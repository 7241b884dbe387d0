// Counts concurrent incoming SMTP sessions, in total and per client address, for
// IncomingSessions and MaximalIncomingSessionsPerIP.
//
// With Redis, the counts are shared by every Haraka worker and every gateway node that uses the
// same server: each session is a member of two sorted sets (all sessions, sessions of its
// address) scored with a lease expiry. A live session renews its lease at every SMTP stage, and
// expired members are dropped before counting, so the sessions of a crashed worker or node stop
// counting after one lease. Without Redis each process counts its own sessions only, so with
// Workers=N the effective limits are N times the configured ones.
//
// A Redis failure never blocks mail: the session is then counted by the process alone and the
// error is reported through `onError`.

import Redis from 'ioredis'

export interface SessionCounts {
  total: number
  perIp: number
}

export interface SessionCounter {
  /** Registers session `id` from `ip` and returns the counts including it. */
  acquire(id: string, ip: string): Promise<SessionCounts>
  /** Extends the lease of a session that is still alive. */
  renew(id: string, ip: string): Promise<void>
  release(id: string, ip: string): Promise<void>
  close(): Promise<void>
}

export class LocalSessionCounter implements SessionCounter {
  private readonly sessions = new Map<string, string>()
  private readonly perIp = new Map<string, number>()

  async acquire(id: string, ip: string): Promise<SessionCounts> {
    if (this.sessions.has(id)) await this.release(id, this.sessions.get(id) as string)
    this.sessions.set(id, ip)
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1)
    return { total: this.sessions.size, perIp: this.perIp.get(ip) as number }
  }

  async renew(): Promise<void> {}

  async release(id: string, ip: string): Promise<void> {
    if (this.sessions.get(id) !== ip) return
    this.sessions.delete(id)
    const left = (this.perIp.get(ip) ?? 1) - 1
    if (left <= 0) this.perIp.delete(ip)
    else this.perIp.set(ip, left)
  }

  async close(): Promise<void> {}
}

export interface RedisTarget {
  /** Unix socket path, or host and port. */
  path?: string
  host?: string
  port?: number
}

export interface RedisCounterOptions {
  target: RedisTarget
  /** Seconds a session counts without renewing its lease. */
  leaseSeconds: number
  keyPrefix?: string
  onError: (message: string) => void
}

export class RedisSessionCounter implements SessionCounter {
  private readonly redis: Redis
  private readonly fallback = new LocalSessionCounter()
  private readonly onFallback = new Set<string>()
  private readonly prefix: string

  constructor(private readonly options: RedisCounterOptions) {
    this.prefix = options.keyPrefix ?? 'mailgw:sessions'
    this.redis = new Redis({
      ...options.target,
      lazyConnect: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      commandTimeout: 2000,
      enableOfflineQueue: true,
    })
    // ioredis reconnects by itself; without a listener an error event would end the process.
    this.redis.on('error', (err: Error) => options.onError(`Redis connection error: ${err.message}`))
  }

  private keys(ip: string): [string, string] {
    return [`${this.prefix}:all`, `${this.prefix}:ip:${ip}`]
  }

  async acquire(id: string, ip: string): Promise<SessionCounts> {
    const [all, perIp] = this.keys(ip)
    const now = Date.now()
    const expiry = now + this.options.leaseSeconds * 1000
    try {
      const replies = await this.redis
        .multi()
        .zremrangebyscore(all, '-inf', now)
        .zremrangebyscore(perIp, '-inf', now)
        .zadd(all, expiry, id)
        .zadd(perIp, expiry, id)
        .zcard(all)
        .zcard(perIp)
        .expire(perIp, this.options.leaseSeconds)
        .exec()
      if (!replies) throw new Error('transaction aborted')
      for (const [err] of replies) if (err) throw err
      return { total: Number(replies[4][1]), perIp: Number(replies[5][1]) }
    } catch (err) {
      this.options.onError(`Redis session count failed, counting in this process only: ${(err as Error).message}`)
      // A timed-out transaction may still run on the server. Redis runs one connection's commands
      // in order, so this removal lands after it and the session is not counted there twice.
      this.redis.multi().zrem(all, id).zrem(perIp, id).exec().catch(() => undefined)
      this.onFallback.add(id)
      return this.fallback.acquire(id, ip)
    }
  }

  async renew(id: string, ip: string): Promise<void> {
    if (this.onFallback.has(id)) return
    const [all, perIp] = this.keys(ip)
    const expiry = Date.now() + this.options.leaseSeconds * 1000
    try {
      await this.redis.multi().zadd(all, 'XX', expiry, id).zadd(perIp, 'XX', expiry, id).expire(perIp, this.options.leaseSeconds).exec()
    } catch (err) {
      this.options.onError(`Redis lease renewal failed for session ${id}: ${(err as Error).message}`)
    }
  }

  async release(id: string, ip: string): Promise<void> {
    if (this.onFallback.delete(id)) return this.fallback.release(id, ip)
    const [all, perIp] = this.keys(ip)
    try {
      await this.redis.multi().zrem(all, id).zrem(perIp, id).exec()
    } catch (err) {
      this.options.onError(`Redis release failed for session ${id}; it stops counting when its lease ends: ${(err as Error).message}`)
    }
  }

  async close(): Promise<void> {
    this.redis.disconnect()
  }
}
