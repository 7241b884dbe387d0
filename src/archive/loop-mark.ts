// The mark the gateway puts on the mail it creates itself (IncomingBcc copies and notifications),
// so that such a message coming back through the gateway gets no second blind copy and no
// notification. The mark is the header `X-Mailgw-Loop: <hostname> <token>`, where the token is an
// HMAC-SHA256 of the hostname and the message's Message-ID under a key kept in the instance
// directory. Outsiders cannot compute the token, so a forged mark does not switch off the blind
// copy of their message.
// NOTE: each gateway keeps its own key, so mail that loops between two gateways with different
// keys is only stopped by the hop limit (MaximalIncomingHops).

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'

export const LOOP_HEADER = 'X-Mailgw-Loop'

const KEY_BYTES = 32

/**
 * Reads the mark key from `file`, creating it (random, mode 0600) when it does not exist. Several
 * Haraka workers may start at once: the exclusive create lets one win and the others read its key.
 */
export function loadLoopKey(file: string): Buffer {
  try {
    return readKey(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  mkdirSync(path.dirname(file), { recursive: true })
  try {
    writeFileSync(file, randomBytes(KEY_BYTES).toString('hex') + '\n', { flag: 'wx', mode: 0o600 })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
  return readKey(file)
}

function readKey(file: string): Buffer {
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex')
  if (key.length !== KEY_BYTES) throw new Error(`loop mark key ${file} is invalid: expected ${KEY_BYTES * 2} hex digits; delete it to have a new one created`)
  return key
}

/** Returns the value of the mark header for a message with this Message-ID. */
export function loopMarkValue(key: Buffer, hostname: string, messageId: string): string {
  return `${hostname} ${token(key, hostname, messageId)}`
}

/** True when one of the mark header values was made by this gateway for this Message-ID. */
export function hasOwnLoopMark(key: Buffer, hostname: string, messageId: string, values: readonly string[]): boolean {
  const expected = Buffer.from(loopMarkValue(key, hostname, messageId))
  return values.some((value) => {
    const presented = Buffer.from(value.trim().replace(/\s+/g, ' '))
    return presented.length === expected.length && timingSafeEqual(presented, expected)
  })
}

function token(key: Buffer, hostname: string, messageId: string): string {
  return createHmac('sha256', key).update(`${hostname.toLowerCase()}\n${messageId.trim()}`).digest('hex').slice(0, 32)
}
