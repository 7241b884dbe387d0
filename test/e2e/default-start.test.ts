// The embedded default as a newcomer runs it: `mailgw start` on the shipped mailgw.conf (moved to
// free ports), one message in, one file in var/mailbox, and SIGINT stops everything.

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, it } from 'node:test'
import { MAILGW_BIN, PACKAGE_ROOT, waitForPort } from '../helpers/gateway'
import { freePort, sendMail, SmtpClient } from '../helpers/smtp'

describe('embedded default', () => {
  it('stores a message in var/mailbox and stops on SIGINT', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mailgw-default-'))
    const [gwPort, mbPort] = [await freePort(), await freePort()]
    cpSync(path.join(PACKAGE_ROOT, 'config'), path.join(dir, 'config'), { recursive: true })
    const confPath = path.join(dir, 'config', 'mailgw.conf')
    const conf = readFileSync(confPath, 'utf8').replace(/127\.0\.0\.1:2525/g, `127.0.0.1:${gwPort}`).replace(/127\.0\.0\.1:2526/g, `127.0.0.1:${mbPort}`)
    writeFileSync(confPath, conf)

    // A process group of its own, so the test can signal it the way a terminal's Ctrl-C does.
    const child = spawn(process.execPath, [MAILGW_BIN, 'start', '-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    let output = ''
    child.stdout.on('data', (c: Buffer) => (output += c.toString()))
    child.stderr.on('data', (c: Buffer) => (output += c.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))

    try {
      await waitForPort(gwPort, 60000)
      const result = await sendMail({
        port: gwPort,
        from: 'newcomer@example.org',
        to: ['user@example.com'],
        message: 'From: newcomer@example.org\r\nTo: user@example.com\r\nSubject: first run\r\n\r\nIt works.\r\n',
      })
      assert.equal(result.final?.code, 250, output)

      const mailbox = path.join(dir, 'var', 'mailbox')
      let files: string[] = []
      for (let i = 0; i < 100 && files.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 100))
        files = readdirSync(mailbox).filter((f) => f.endsWith('.eml'))
      }
      assert.equal(files.length, 1)
      const stored = readFileSync(path.join(mailbox, files[0]), 'utf8')
      assert.match(stored, /^Return-Path: <newcomer@example\.org>\r\nDelivered-To: user@example\.com\r\n/)
      assert.match(stored, /Subject: first run/)
      assert.match(stored, /It works\./)

      process.kill(-child.pid!, 'SIGINT')
      assert.equal(await exited, 0, output)
      assert.doesNotMatch(output, /exited unexpectedly|restart attempt/, 'services are stopped, not restarted')
      for (const port of [gwPort, mbPort]) {
        await assert.rejects(SmtpClient.connect(port), `port ${port} still open after SIGINT`)
      }
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
