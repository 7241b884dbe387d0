// A private redis-server for `[mailgw.local] Redis=true` and for tests: listens only on a Unix
// socket (no TCP port), keeps nothing on disk, and is stopped with the gateway. The socket path
// is derived from the instance directory, so the Haraka workers find it without configuration.

import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'

/** Returns the Unix socket path of the private Redis of an instance. */
export function privateRedisSocket(instanceDir: string): string {
  return path.join(instanceDir, 'var', 'run', 'redis.sock')
}

export interface RedisService {
  socket: string
  process: ChildProcess
  stop(): Promise<void>
}

export interface RedisServiceOptions {
  socket: string
  /** redis-server binary; Debian installs it as /usr/bin/redis-server. */
  binary?: string
  startTimeoutMs?: number
}

export async function startRedis(opts: RedisServiceOptions): Promise<RedisService> {
  mkdirSync(path.dirname(opts.socket), { recursive: true })
  const args = [
    '--port', '0',
    '--unixsocket', opts.socket,
    '--unixsocketperm', '700',
    '--save', '',
    '--appendonly', 'no',
    '--dir', path.dirname(opts.socket),
    '--loglevel', 'warning',
  ]
  // Its own process group keeps a terminal's Ctrl-C away; the launcher stops it after Haraka.
  const child = spawn(opts.binary ?? 'redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let output = ''
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()))
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (err) => reject(new Error(`cannot start redis-server: ${err.message}; install the redis-server package`))),
  )

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }

  try {
    await Promise.race([waitForPing(opts.socket, opts.startTimeoutMs ?? 10000, () => child.exitCode !== null), spawnError])
  } catch (err) {
    await stop()
    throw new Error(`${(err as Error).message}\n${output.trim()}`, { cause: err })
  }
  return { socket: opts.socket, process: child, stop }
}

/** Sends PING on the socket until Redis replies PONG. */
async function waitForPing(socket: string, timeoutMs: number, hasExited: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (hasExited()) throw new Error('redis-server exited during start')
    if (await ping(socket)) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`redis-server sent no reply to PING on ${socket} within ${timeoutMs} ms`)
}

function ping(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const client = net.connect({ path: socket })
    const timer = setTimeout(() => finish(false), 1000)
    const finish = (ok: boolean) => {
      clearTimeout(timer)
      client.destroy()
      resolve(ok)
    }
    client.once('error', () => finish(false))
    client.once('connect', () => client.write('PING\r\n'))
    client.once('data', (d) => finish(d.toString().startsWith('+PONG')))
  })
}
