// Free space of the file system that holds the outbound queue, for MinimalQueueFreeSpaceSize.
// statfs is cheap but runs for every MAIL FROM, so the answer is kept for a few seconds.

import { promises as fs } from 'node:fs'

const CACHE_MS = 5000

export class QueueSpace {
  private cached: { bytes: number; at: number } | null = null

  constructor(
    private readonly dir: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Bytes available to unprivileged users on the queue's file system. */
  async freeBytes(): Promise<number> {
    if (this.cached && this.now() - this.cached.at < CACHE_MS) return this.cached.bytes
    const stats = await fs.statfs(this.dir)
    const bytes = Number(stats.bavail) * Number(stats.bsize)
    this.cached = { bytes, at: this.now() }
    return bytes
  }

  /** Whether the file system has at least `minimum` bytes free; 0 turns the check off. */
  async hasRoom(minimum: number): Promise<boolean> {
    if (minimum <= 0) return true
    return (await this.freeBytes()) >= minimum
  }
}
