// Runs the gateway in the foreground: the local services mailgw.conf asks for ([mailgw.local]),
// then Haraka on the generated instance directory. Stops everything it started when Haraka exits
// or when the launcher gets SIGINT or SIGTERM, services last so that mail Haraka is still
// delivering reaches the local mailbox.

import { spawn, type ChildProcess } from 'node:child_process'
import net from 'node:net'
import path from 'node:path'
import { externalClamdNotices, startLocalClamds } from '../av/local-clamd'
import { packageRoot } from '../cli/paths'
import type { MailgwConfig } from '../config'
import { startMailbox } from '../mailbox/server'
import { formatListen, resolveBasePath, writeHarakaInstance } from './haraka-instance'
import { privateRedisSocket, startRedis } from './redis-service'

export interface Service {
  name: string
  stop(): Promise<void>
}

export interface GatewayOptions {
  config: MailgwConfig
  packageRoot: string
  runDir?: string
  log: (line: string) => void
  /** Extra environment for Haraka, e.g. for tests. */
  env?: NodeJS.ProcessEnv
}

export function defaultRunDir(config: MailgwConfig): string {
  return resolveBasePath(config, path.join('var', 'run', 'haraka'))
}

export interface RunningGateway {
  haraka: ChildProcess
  services: Service[]
  /** Resolves with Haraka's exit code once everything has stopped. */
  exited: Promise<number>
  stop(): Promise<number>
}

export async function startLocalServices(config: MailgwConfig, log: (line: string) => void): Promise<Service[]> {
  const services: Service[] = []
  const { local } = config

  if (local.Mailbox) {
    const dir = resolveBasePath(config, local.MailboxPath)
    const mailbox = await startMailbox({ host: local.Mailbox.host, port: local.Mailbox.port, dir, hostname: 'mailbox.localhost' })
    services.push({ name: 'mailbox', stop: () => mailbox.close() })
    log(`local mailbox listening on ${formatListen(local.Mailbox)}, storing messages in ${dir}`)
  }
  if (local.Redis) {
    // The access plugin finds this socket from the instance directory; see privateRedisSocket.
    const socket = privateRedisSocket(resolveBasePath(config, '.'))
    try {
      const redis = await startRedis({ socket })
      services.push({ name: 'redis', stop: () => redis.stop() })
      log(`local Redis listening on ${socket}`)
    } catch (err) {
      await stopServices(services)
      throw err
    }
  }
  if (local.Clamd) {
    // The anti-virus engine finds these sockets from the instance directory; see local-clamd.ts.
    // A clamd that exits is restarted with backoff until this service is stopped.
    try {
      const clamds = await startLocalClamds(config, packageRoot(), log)
      services.push({ name: 'clamd', stop: () => clamds.stop() })
    } catch (err) {
      await stopServices(services)
      throw err
    }
  } else {
    for (const notice of externalClamdNotices(config)) log(notice)
  }
  return services
}

export async function startGateway(opts: GatewayOptions): Promise<RunningGateway> {
  const { config, log } = opts
  const runDir = opts.runDir ?? defaultRunDir(config)
  // Haraka reports a port in use only in its log and exits. The readiness check would then reach
  // the other process on that port and report this gateway as started.
  await assertPortsFree([
    ...config.network.ListenOn.map((address) => ({ key: 'ListenOn', address })),
    ...(config.local.Mailbox ? [{ key: 'Mailbox', address: config.local.Mailbox }] : []),
  ])
  const services = await startLocalServices(config, log)

  try {
    await writeHarakaInstance(config, { runDir, pluginsDir: path.join(opts.packageRoot, 'plugins') })
  } catch (err) {
    await stopServices(services)
    throw err
  }

  const harakaBin = path.join(path.dirname(require.resolve('Haraka/package.json')), 'bin', 'haraka')
  // Haraka leads its own process group, so stopping the group also stops its workers and any
  // helper it started (such as openssl), however the launcher itself was signalled.
  const haraka = spawn(process.execPath, [harakaBin, '-c', runDir], {
    env: { ...process.env, ...opts.env, MAILGW_CONFIG: config.file, MAILGW_LAUNCHER_PID: String(process.pid) },
    stdio: 'inherit',
    detached: true,
  })
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      if (haraka.pid) process.kill(-haraka.pid, signal)
    } catch {
      haraka.kill(signal)
    }
  }

  const exited = new Promise<number>((resolve) => {
    haraka.once('exit', (code, signal) => {
      stopServices(services).then(() => resolve(code ?? (signal ? 128 + (signalNumbers[signal] ?? 1) : 1)))
    })
  })

  const stop = async (): Promise<number> => {
    if (haraka.exitCode === null && haraka.signalCode === null) {
      signalGroup('SIGTERM')
      const timer = setTimeout(() => signalGroup('SIGKILL'), 15000)
      const code = await exited
      // Workers that outlived the master would keep the listening sockets.
      signalGroup('SIGKILL')
      clearTimeout(timer)
      return code
    }
    return exited
  }

  return { haraka, services, exited, stop }
}

/** Throws when another process listens on one of the addresses, naming the key that sets it. */
export async function assertPortsFree(listeners: { key: string; address: { host: string; port: number } }[]): Promise<void> {
  for (const { key, address } of listeners) {
    const error = await tryListen(address)
    if (error?.code === 'EADDRINUSE') {
      throw new Error(`${key} ${formatListen(address)} is already in use, perhaps by a gateway that is still running; stop that process or choose another address`)
    }
  }
}

function tryListen(address: { host: string; port: number }): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const server = net.createServer()
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err))
    server.listen({ host: address.host, port: address.port, exclusive: true }, () => server.close(() => resolve(null)))
  })
}

const signalNumbers: Record<string, number> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 }

async function stopServices(services: Service[]): Promise<void> {
  for (const s of [...services].reverse()) await s.stop().catch(() => undefined)
}

/** Waits until every address accepts TCP connections, or throws after timeoutMs. */
export async function waitForListeners(addresses: { host: string; port: number }[], timeoutMs: number, abort?: Promise<unknown>): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let aborted = false
  abort?.then(() => (aborted = true))

  for (const addr of addresses) {
    while (!(await canConnect(addr))) {
      if (aborted) throw new Error('Haraka exited before it listened')
      if (Date.now() > deadline) throw new Error(`timed out waiting for the gateway to listen on ${formatListen(addr)}`)
      await new Promise((r) => setTimeout(r, 200))
    }
  }
}

function canConnect(addr: { host: string; port: number }): Promise<boolean> {
  return new Promise((resolve) => {
    // A wildcard listener is reached through loopback of the same family.
    let host = addr.host
    if (host === '0.0.0.0') host = '127.0.0.1'
    else if (host === '::') host = '::1'
    const socket = net.connect({ host, port: addr.port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}
