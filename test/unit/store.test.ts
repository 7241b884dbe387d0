import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, describe, it } from 'node:test'

import { isValidId } from '../../src/store/ids'
import { MessageStore, type NewEntry } from '../../src/store/message-store'

const ENTRY: NewEntry = {
  status: ['as/spam'],
  group: 'managers',
  envelope: { from: 'alice@outside.example', to: ['boss@managers.example.com'] },
  clientIp: '203.0.113.9',
  arrival: '2026-12-04T10:00:00.000Z',
  reasons: ['as/spam is in QuarantineMessage of group managers'],
  transaction: 'TXN.1',
  copy: 2,
}

describe('message store', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'mailgw-store-'))
  after(() => rmSync(root, { recursive: true, force: true }))

  it('writes an eml and its metadata', async () => {
    const store = new MessageStore(path.join(root, 'quarantine', 'as'))
    const content = Buffer.from('Subject: hi\r\n\r\nbody\r\n')
    const stored = await store.add(content, ENTRY)
    assert.ok(isValidId(stored.id))
    assert.equal(stored.size, content.length)
    assert.deepEqual(readdirSync(store.dir).sort(), [`${stored.id}.eml`, `${stored.id}.json`])
    assert.deepEqual(readFileSync(path.join(store.dir, `${stored.id}.eml`)), content)
    const metadata = JSON.parse(readFileSync(path.join(store.dir, `${stored.id}.json`), 'utf8'))
    assert.deepEqual(metadata, { id: stored.id, ...ENTRY, size: content.length })

    const read = await store.read(stored.id)
    assert.deepEqual(read.content, content)
    assert.deepEqual(await store.list(), [metadata])
  })

  it('removes both files', async () => {
    const store = new MessageStore(path.join(root, 'remove'))
    const stored = await store.add(Buffer.from('x'), ENTRY)
    await store.remove(stored.id)
    assert.deepEqual(readdirSync(store.dir), [])
    await store.remove(stored.id)
  })

  it('rejects ids that could leave the directory', async () => {
    const store = new MessageStore(path.join(root, 'ids'))
    for (const id of ['../../etc/passwd', 'short', 'a'.repeat(41), 'abc.defgh', 'abcdefgh/', '']) {
      await assert.rejects(store.read(id), /invalid store id/, id)
      await assert.rejects(store.remove(id), /invalid store id/, id)
    }
  })

  it('lists only complete entries', async () => {
    const store = new MessageStore(path.join(root, 'list'))
    const stored = await store.add(Buffer.from('x'), ENTRY)
    writeFileSync(path.join(store.dir, 'orphan12345.eml'), 'x')
    writeFileSync(path.join(store.dir, '.tmp-1-abcdefgh.json'), '{')
    assert.deepEqual((await store.list()).map((m) => m.id), [stored.id])
  })

  it('fails where the directory cannot exist', async () => {
    const file = path.join(root, 'plain-file')
    writeFileSync(file, 'x')
    const store = new MessageStore(path.join(file, 'quarantine'))
    await assert.rejects(store.add(Buffer.from('x'), ENTRY), /ENOTDIR|EEXIST/)
  })
})
