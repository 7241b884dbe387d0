// A bounded in-memory cache of DNS answers. Each entry lives for the TTL of its answer, capped by
// DNSCacheMaximalTTL; a cap of 0 turns caching off. When the cache is full the oldest entry is
// dropped first (a Map keeps insertion order), which bounds memory whatever the query mix.

export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>()

  constructor(
    private readonly maxTtlSeconds: number,
    private readonly maxEntries = 10000,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key)
    if (!entry) return undefined
    if (entry.expires <= this.now()) {
      this.entries.delete(key)
      return undefined
    }
    return entry.value
  }

  set(key: string, value: V, ttlSeconds: number): void {
    const ttl = Math.min(Math.max(0, ttlSeconds), this.maxTtlSeconds)
    if (ttl <= 0) return
    this.entries.delete(key)
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value
      if (oldest !== undefined) this.entries.delete(oldest)
    }
    this.entries.set(key, { value, expires: this.now() + ttl * 1000 })
  }

  get size(): number {
    return this.entries.size
  }
}
