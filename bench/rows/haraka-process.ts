// Starting and stopping a Haraka (or mailgw launcher) process for a row, with its output in a
// log file so a failed start can be explained.

import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { stopChild, waitForListen } from '../lib/postfix-tools'
import { processTree } from '../lib/procs'
import { trackPid } from '../lib/children'

export interface StartedProcess {
  child: ChildProcess
  /** Pids of the child's descendants, not the child itself: the Haraka processes under the mailgw launcher. */
  descendants(): number[]
  stop(): Promise<void>
}

export async function startListening(command: string, args: string[], port: number, logPath: string): Promise<StartedProcess> {
  const out = openSync(logPath, 'w')
  const child = spawn(command, args, { stdio: ['ignore', out, out] })
  closeSync(out)
  trackPid(child.pid)
  try {
    await waitForListen(port, 60000, child)
  } catch (err) {
    await stopChild(child, 'SIGKILL')
    const log = readFileSync(logPath, 'utf8').split('\n').slice(-15).join('\n')
    throw new Error(`${err instanceof Error ? err.message : String(err)}; last output:\n${log}`, { cause: err })
  }
  return {
    child,
    descendants: () => processTree([child.pid as number]).map((p) => p.pid).filter((p) => p !== child.pid),
    stop: () => stopChild(child),
  }
}
