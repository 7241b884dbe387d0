// The facts a benchmark result is meaningless without: date, CPU, cores, memory and versions.

import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export interface MachineInfo {
  date: string
  cpu: string
  cores: number
  memoryGb: string
  os: string
  node: string
  haraka: string
  mailgw: string
  commit: string
  postfix: string
  clamd: string
}

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10000 }).toString().trim()
  } catch {
    return 'unknown'
  }
}

export function machineInfo(packageRoot: string): MachineInfo {
  const pkg = (p: string) => (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGb: (os.totalmem() / 2 ** 30).toFixed(1),
    os: `${os.type()} ${os.release()}, Debian ${run('cat', ['/etc/debian_version'])}`,
    node: process.versions.node,
    haraka: pkg(require.resolve('Haraka/package.json')),
    mailgw: pkg(path.join(packageRoot, 'package.json')),
    commit: run('git', ['-C', packageRoot, 'rev-parse', '--short', 'HEAD']),
    postfix: `postfix ${run('dpkg-query', ['-W', '-f', '${Version}', 'postfix'])}`,
    clamd: `clamd ${run('dpkg-query', ['-W', '-f', '${Version}', 'clamav-daemon'])}`,
  }
}
