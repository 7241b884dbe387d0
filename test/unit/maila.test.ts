// mailgw maila in process on temporary stores: listing format, id checks, exit codes, purge by
// age and progress output.

import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'

import { escapeControls, listLine, localDate, totalLine } from '../../src/cli/maila-format'
import { runMaila } from '../../src/cli/maila'
import { Progress } from '../../src/cli/maila-progress'
import { MessageStore, type NewEntry } from '../../src/store/message-store'

process.env.TZ = 'UTC'

function entry(arrival: string, overrides: Partial<NewEntry> = {}): NewEntry {
  return {
    status: ['av/infected'],
    group: 'policy',
    envelope: { from: 'alice@outside.example', to: ['bob@corp.example', 'carl@corp.example'] },
    clientIp: '192.0.2.7',
    arrival,
    reasons: ['av/infected is in QuarantineMessage of group policy'],
    transaction: 'TXN.1',
    copy: 1,
    ...overrides,
  }
}

async function run(args: string[]) {
  const out: string[] = []
  const err: string[] = []
  const code = await runMaila(args, { out: (l) => out.push(l), err: (l) => err.push(l) }, { now: () => new Date('2026-12-10T00:00:00Z'), user: () => 'tester' })
  return { code, out, err }
}

describe('maila format', () => {
  it('formats a list line', () => {
    const line = listLine({ id: 'abcdef012345', size: 1065, ...entry('2007-12-12T12:13:51Z') })
    assert.equal(line, 'abcdef012345 av/infected 1065 Wed, 12 Dec 2007 12:13:51 +0000 192.0.2.7 <alice@outside.example> -> <bob@corp.example>, <carl@corp.example>')
  })

  it('prints the null sender and a missing address', () => {
    const line = listLine({ id: 'abcdef012345', size: 10, ...entry('2007-12-12T12:13:51Z', { clientIp: '', envelope: { from: '', to: ['x@y.example'] }, status: ['outgoing'] }) })
    assert.equal(line, 'abcdef012345 outgoing 10 Wed, 12 Dec 2007 12:13:51 +0000 - <> -> <x@y.example>')
  })

  it('formats the total line', () => {
    assert.equal(totalLine(2, 11425), 'Total: 2 archived messages, 11425 bytes.')
  })

  it('escapes controls in a list line', () => {
    const hostile = entry('2007-12-12T12:13:51Z', {
      status: ['av/infected\x1b[2J'],
      clientIp: '192.0.2.7\x07',
      envelope: { from: 'a\x1b]0;pwned\x07@evil.example', to: ['b\u009b31m@corp.example', 'c\r\nd@corp.example'] },
    })
    const line = listLine({ id: 'abcdef012345', size: 10, ...hostile })
    assert.equal(
      line,
      'abcdef012345 av/infected\\x1b[2J 10 Wed, 12 Dec 2007 12:13:51 +0000 192.0.2.7\\x07 <a\\x1b]0;pwned\\x07@evil.example> -> <b\\x9b31m@corp.example>, <c\\x0d\\x0ad@corp.example>',
    )
  })

  it('keeps tabs and text', () => {
    assert.equal(escapeControls('a\tb \u00e9 \u2603'), 'a\tb \u00e9 \u2603')
    assert.equal(escapeControls('\x00\x1f\x7f\u0080\u009f'), '\\x00\\x1f\\x7f\\x80\\x9f')
  })

  it('keeps an unreadable date', () => {
    assert.equal(localDate('yesterday'), 'yesterday')
  })
})

describe('maila actions', () => {
  let dir: string
  let store: MessageStore

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'maila-unit-'))
    store = new MessageStore(dir)
  })

  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('lists entries oldest first', async () => {
    const newer = await store.add(Buffer.from('Subject: b\r\n\r\nB\r\n'), entry('2026-12-09T00:00:00Z'))
    const older = await store.add(Buffer.from('Subject: a\r\n\r\nA\r\n'), entry('2026-12-01T00:00:00Z'))
    const result = await run(['--show-all', `--archive-path=${dir}`])
    assert.equal(result.code, 0)
    assert.deepEqual(
      result.out.map((l) => l.split(' ')[0]),
      [older.id, newer.id, 'Total:'],
    )
    assert.equal(result.out[2], `Total: 2 archived messages, ${older.size + newer.size} bytes.`)
  })

  it('rejects hostile ids with code 1', async () => {
    await store.add(Buffer.from('x\r\n'), entry('2026-12-01T00:00:00Z'))
    const before = readdirSync(dir).sort()
    for (const id of ['../../etc/passwd', '/etc/passwd', 'abc/defghij', 'a'.repeat(41), 'short', 'abcdefgh.json', '']) {
      for (const option of ['--show-id', '--send-id', '--send-id-without-check', '--remove-id']) {
        const result = await run([`${option}=${id}`, `--archive-path=${dir}`])
        assert.equal(result.code, 1, `${option}=${id}`)
        assert.match(result.err.join('\n'), /invalid id/)
      }
    }
    assert.deepEqual(readdirSync(dir).sort(), before)
  })

  it('escapes controls in --show-id', async () => {
    const message = [
      'Subject: \x1b]0;owned\x07title\x1b[2J',
      'X-Link: \x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\',
      'X-Csi: \u009b31mred\rback',
      'X-Tab:\tkept',
      '',
      'Body \x1b[2J',
      '',
    ].join('\r\n')
    const stored = await store.add(
      Buffer.from(message, 'utf8'),
      entry('2026-12-01T00:00:00Z', { group: 'g\x1b[1m', reasons: ['reason\x1b[2J'], envelope: { from: 'a\x1b[5m@evil.example', to: ['b\x07@corp.example'] } }),
    )
    const result = await run([`--show-id=${stored.id}`, `--archive-path=${dir}`])
    assert.equal(result.code, 0, result.err.join('\n'))

    for (const line of result.out) assert.doesNotMatch(line, /(?!\t)\p{Cc}/u, `raw control character in ${JSON.stringify(line)}`)
    assert.ok(result.out.includes('Subject: \\x1b]0;owned\\x07title\\x1b[2J'))
    assert.ok(result.out.includes('X-Link: \\x1b]8;;http://evil.example/\\x1b\\click\\x1b]8;;\\x1b\\'))
    assert.ok(result.out.includes('X-Csi: \\x9b31mred\\x0dback'))
    assert.ok(result.out.includes('X-Tab:\tkept'))
    assert.ok(result.out.includes('Sender: <a\\x1b[5m@evil.example>'))
    assert.ok(result.out.includes('Recipients: <b\\x07@corp.example>'))
    assert.ok(result.out.includes('Group: g\\x1b[1m'))
    assert.ok(result.out.includes('Reason: reason\\x1b[2J'))
    assert.ok(!result.out.some((l) => l.includes('Body')), 'the body is not printed')
  })

  it('returns 4 for an unknown id', async () => {
    const result = await run(['--remove-id=abcdefgh1234', `--archive-path=${dir}`])
    assert.equal(result.code, 4)
    assert.match(result.err[0], /no message abcdefgh1234 in /)
  })

  it('returns 2 for an unreadable store', async () => {
    const result = await run(['--show-all', `--archive-path=${path.join(dir, 'missing')}`])
    assert.equal(result.code, 2)
    assert.match(result.err[0], /cannot read store .*missing/)
  })

  it('returns 1 for invalid arguments', async () => {
    assert.equal((await run([])).code, 1)
    assert.equal((await run(['--show-all', '--show-id=abcdefgh1234', `--archive-path=${dir}`])).code, 1)
    assert.equal((await run(['--frobnicate', `--archive-path=${dir}`])).code, 1)
    assert.equal((await run(['--purge-older-than=ten', `--archive-path=${dir}`])).code, 1)
    assert.equal((await run(['--send-all'])).code, 1)
  })

  it('purges entries older than N days', async () => {
    const old = await store.add(Buffer.from('old\r\n'), entry('2026-11-01T00:00:00Z'))
    const recent = await store.add(Buffer.from('recent\r\n'), entry('2026-12-05T00:00:00Z'))
    const result = await run(['--purge-older-than=30', `--archive-path=${dir}`])
    assert.equal(result.code, 0)
    assert.deepEqual(result.out, [`Removed 1 archived messages older than 30 days, ${old.size} bytes.`])
    assert.deepEqual((await store.list()).map((e) => e.id), [recent.id])
  })

  it('removes every entry', async () => {
    for (let i = 0; i < 3; i++) await store.add(Buffer.from(`m${i}\r\n`), entry('2026-12-01T00:00:00Z'))
    const result = await run(['--remove-all', `--archive-path=${dir}`])
    assert.equal(result.code, 0)
    assert.deepEqual(result.out, ['Removed 3 archived messages, 12 bytes.'])
    assert.deepEqual(readdirSync(dir), [])
  })
})

describe('maila progress', () => {
  it('writes to a terminal only', () => {
    const written: string[] = []
    const tty = new Progress('removing', 40, { isTTY: true, write: (t) => written.push(t) })
    tty.update(40)
    tty.end()
    assert.deepEqual(written, ['\rremoving: 40/40 (100%)', '\n'])

    const piped: string[] = []
    const pipe = new Progress('removing', 40, { isTTY: false, write: (t) => piped.push(t) })
    pipe.update(40)
    pipe.end()
    assert.deepEqual(piped, [])
  })

  it('stays quiet for small stores', () => {
    const written: string[] = []
    const small = new Progress('removing', 3, { isTTY: true, write: (t) => written.push(t) })
    small.update(3)
    small.end()
    assert.deepEqual(written, [])
  })
})
