import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, describe, it } from 'node:test'

import { limitSpoolBacklog } from '../../plugins/shared/spool-flow'
import { createHarakaTransaction } from '../helpers/haraka-transaction'

describe('limitSpoolBacklog', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mailgw-spool-flow-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('pauses a fast client until the spool file catches up', async () => {
    const txn = createHarakaTransaction('flow-1', dir, 0)
    const events: string[] = []
    const connection = { transaction: txn as Haraka.Transaction, pause: () => events.push('pause'), resume: () => events.push('resume') }
    limitSpoolBacklog(connection)

    // Lines added in one go never give the file a turn, as with a client far faster than the disk.
    const line = Buffer.from(`${'x'.repeat(998)}\r\n`)
    txn.add_data(Buffer.from('Subject: flow\r\n'))
    txn.add_data(Buffer.from('\r\n'))
    for (let i = 0; i < 8 * 1024; i++) txn.add_data(line)
    assert.deepEqual(events, ['pause'])

    const deadline = Date.now() + 5000
    while (!events.includes('resume') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
    assert.deepEqual(events, ['pause', 'resume'])
    const buffered = (txn.message_stream as unknown as { buffered: number }).buffered
    assert.ok(buffered <= 1024 * 1024, `${buffered} bytes still wait for the file`)

    await new Promise<void>((resolve) => txn.end_data(() => resolve()))
    const stored = await new Promise<Buffer>((resolve) => txn.message_stream.get_data((b) => resolve(b)))
    assert.equal(stored.length, 'Subject: flow\r\n\r\n'.length + 8 * 1024 * line.length)
    txn.message_stream.destroy()
  })

  it('leaves a message held in memory alone', () => {
    const txn = createHarakaTransaction('flow-2', dir, -1)
    const events: string[] = []
    limitSpoolBacklog({ transaction: txn as Haraka.Transaction, pause: () => events.push('pause'), resume: () => events.push('resume') })
    for (let i = 0; i < 8 * 1024; i++) txn.add_data(Buffer.from(`${'y'.repeat(998)}\r\n`))
    assert.deepEqual(events, [])
    txn.message_stream.destroy()
  })
})
