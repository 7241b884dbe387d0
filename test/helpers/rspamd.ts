// Starts rspamd (Debian package `rspamd`) for tests: the packaged rules from /etc/rspamd, with
// the workers bound to loopback ports chosen here, files under a temporary directory, no fuzzy or
// proxy worker, and DNS pointed at the given nameserver (the test DNS server), so nothing leaves
// the machine. Returns null when rspamd is not installed.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { freePort } from './smtp'

export interface TestRspamd {
  url: string
  /** Process id of the rspamd main process; its workers are its children. */
  pid: number
  stop(): Promise<void>
}

export function rspamdInstalled(): boolean {
  return spawnSync('rspamd', ['--version'], { stdio: 'ignore' }).status === 0
}

export async function startTestRspamd(nameserver: string, startTimeoutMs = 60000): Promise<TestRspamd | null> {
  if (!rspamdInstalled()) return null
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailgw-rspamd-'))
  const port = await freePort()
  const controllerPort = await freePort()
  mkdirSync(path.join(dir, 'override.d'))
  mkdirSync(path.join(dir, 'local.d'))
  const files: Record<string, string> = {
    'override.d/worker-normal.inc': `bind_socket = "127.0.0.1:${port}";\ncount = 1;\n`,
    'override.d/worker-controller.inc': `bind_socket = "127.0.0.1:${controllerPort}";\ncount = 1;\n`,
    'override.d/worker-proxy.inc': 'enabled = false;\n',
    'override.d/worker-fuzzy.inc': 'enabled = false;\n',
    'override.d/logging.inc': `type = "file";\nfilename = "${dir}/rspamd.log";\nlevel = "warning";\n`,
    'local.d/options.inc': `dns {\n  nameserver = ["${nameserver}"];\n  timeout = 0.5s;\n  retransmits = 1;\n}\n`,
  }
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text)

  const vars = ['LOCAL_CONFDIR', 'RUNDIR', 'DBDIR', 'LOGDIR'].flatMap((name) => ['--var', `${name}=${dir}`])
  const child: ChildProcess = spawn('rspamd', ['-f', '-i', '-u', 'root', '-g', 'root', '-c', '/etc/rspamd/rspamd.conf', ...vars], { stdio: 'ignore' })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = `http://127.0.0.1:${port}`

  const deadline = Date.now() + startTimeoutMs
  for (;;) {
    try {
      const response = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) })
      if (response.ok) break
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
      throw new Error(`rspamd did not answer on ${url} within ${startTimeoutMs} ms (exit code ${child.exitCode})`)
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }

  return {
    url,
    pid: child.pid ?? 0,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 10000)
        await exited
        clearTimeout(timer)
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
