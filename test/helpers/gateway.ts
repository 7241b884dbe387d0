// Starts the real gateway for end-to-end tests the way an administrator does: `mailgw start -c`
// on a mailgw.conf written into a fresh temporary instance directory. Everything listens on
// loopback ports chosen by the test.

import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { freePort } from './smtp'

export const PACKAGE_ROOT = path.resolve(__dirname, '..', '..', '..')
export const MAILGW_BIN = path.join(PACKAGE_ROOT, 'bin', 'mailgw')

export interface TestGateway {
  port: number
  dir: string
  configFile: string
  /** Everything Haraka and the launcher printed so far. */
  output(): string
  /** Waits until the output matches, e.g. a decision log line. */
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<string>
  process: ChildProcess
  stop(): Promise<void>
}

export interface GatewayOptions {
  /** mailgw.conf text; `%PORT%` is replaced with the gateway's port. */
  conf: string
  /** Other files to write into the config directory. */
  files?: Record<string, string>
  port?: number
}

export function makeInstanceDir(prefix = 'mailgw-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix))
  mkdirSync(path.join(dir, 'config'), { recursive: true })
  return dir
}

export async function startTestGateway(opts: GatewayOptions): Promise<TestGateway> {
  const port = opts.port ?? (await freePort())
  const dir = makeInstanceDir()
  const configFile = path.join(dir, 'config', 'mailgw.conf')
  writeFileSync(configFile, opts.conf.replace(/%PORT%/g, String(port)))
  // Haraka's default log level hides the info lines that carry our decisions.
  writeFileSync(path.join(dir, 'config', 'log.ini'), '[main]\nlevel=info\n')
  for (const [name, content] of Object.entries(opts.files ?? {})) writeFileSync(path.join(dir, 'config', name), content)

  const child = spawn(process.execPath, [MAILGW_BIN, 'start', '-c', configFile, '--run-dir', path.join(dir, 'run')], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const listeners = new Set<() => void>()
  const onChunk = (c: Buffer) => {
    output += c.toString()
    for (const l of listeners) l()
  }
  child.stdout.on('data', onChunk)
  child.stderr.on('data', onChunk)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))

  const waitForOutput = (re: RegExp, timeoutMs = 30000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const m = re.exec(output)
        if (m) {
          listeners.delete(check)
          clearTimeout(timer)
          resolve(m[0])
        }
      }
      const timer = setTimeout(() => {
        listeners.delete(check)
        reject(new Error(`output did not match ${re} within ${timeoutMs} ms:\n${output.slice(-4000)}`))
      }, timeoutMs)
      listeners.add(check)
      check()
    })

  try {
    await Promise.race([
      waitForOutput(/gateway listening on/, 60000),
      exited.then(() => {
        throw new Error(`mailgw start exited early:\n${output}`)
      }),
    ])
  } catch (err) {
    child.kill('SIGKILL')
    throw err
  }

  return {
    port,
    dir,
    configFile,
    output: () => output,
    waitForOutput,
    process: child,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 20000)
        await exited
        clearTimeout(timer)
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Runs `mailgw ARGS...` to completion and returns its exit code and output. */
export function runMailgw(args: string[], cwd = PACKAGE_ROOT): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAILGW_BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.once('exit', (code) => resolve({ code: code ?? 1, stdout, stderr }))
  })
}

export function waitForPort(port: number, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = net.connect({ host: '127.0.0.1', port })
      s.once('connect', () => {
        s.destroy()
        resolve()
      })
      s.once('error', () => {
        if (Date.now() > deadline) reject(new Error(`port ${port} not open after ${timeoutMs} ms`))
        else setTimeout(attempt, 100)
      })
    }
    attempt()
  })
}
