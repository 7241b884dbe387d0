// A private redis-server for tests, on a Unix socket in a fresh temporary directory.

import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { startRedis, type RedisService } from '../../src/launcher/redis-service'

export interface TestRedis extends RedisService {
  dir: string
}

export async function startTestRedis(): Promise<TestRedis> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailgw-redis-'))
  const service = await startRedis({ socket: path.join(dir, 'redis.sock') })
  return {
    ...service,
    dir,
    async stop() {
      await service.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
