// Shared pieces of the archive, notification and maila end-to-end tests: marker-word scanning
// engines (loaded with EngineModule=), a message builder and readers for header fields and stores.

import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'

import type { Sink } from '../helpers/sink'

export const ENGINE_MODULE = `
// Test engines: SPAMWORD in the message makes it as/spam, VIRUS-MARKER in an object av/infected.
exports.createEngines = () => ({
  antispam: {
    name: 'marker-spam',
    version: '1.0',
    settingsKeys: [],
    async check(raw) {
      const text = raw.toString('latin1')
      if (text.includes('SPAMWORD')) return { status: 'as/spam', rate: 95, method: 'marker', info: ['marker SPAMWORD'] }
      return { status: null, rate: 0, method: 'none', info: [] }
    },
  },
  antivirus: {
    name: 'marker-av',
    version: '1.0',
    settingsKeys: [],
    async bases() { return { date: new Date('2026-12-01T00:00:00Z'), signatures: 3 } },
    async scan(object) {
      return object.decoded.includes('VIRUS-MARKER') ? { status: 'av/infected', detail: 'Test.Marker' } : { status: 'av/clean' }
    },
  },
})
`

export function testMessage(subject: string, body = 'Hello.\r\n', extraHeaders: string[] = []): string {
  return [
    'From: Alice <alice@outside.example>',
    'To: staff@corp.example',
    `Subject: ${subject}`,
    'Date: Fri, 04 Dec 2026 10:00:00 +0000',
    `Message-ID: <${subject.replace(/\W/g, '')}@outside.example>`,
    ...extraHeaders,
    '',
    body,
  ].join('\r\n')
}

/** A message with an attachment that the marker engine finds infected. */
export function infectedMessage(subject: string): string {
  return testMessage(subject, ['--b1', 'Content-Type: text/plain', '', 'See attachment.', '--b1', 'Content-Type: application/octet-stream; name="tool.exe"', 'Content-Disposition: attachment; filename="tool.exe"', '', 'VIRUS-MARKER', '--b1--', ''].join('\r\n'), [
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
  ])
}

export function headerBlock(raw: Buffer): string {
  const text = raw.toString('utf8')
  return text.slice(0, text.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ')
}

export function headerValues(raw: Buffer, name: string): string[] {
  const prefix = `${name.toLowerCase()}:`
  return headerBlock(raw)
    .split('\r\n')
    .filter((line) => line.toLowerCase().startsWith(prefix))
    .map((line) => line.slice(prefix.length).trim())
}

export function bySubject(sink: Sink, marker: string) {
  return sink.messages.filter((m) => headerValues(m.raw, 'Subject').some((s) => s.includes(marker)))
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export interface StoreEntry {
  id: string
  metadata: { status: string[]; envelope: { from: string; to: string[] }; reasons: string[]; group: string; size: number; arrival: string; released?: unknown[] }
  eml: string
}

export function storeEntries(dir: string): StoreEntry[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json') && !name.startsWith('.'))
    .map((name) => {
      const id = name.slice(0, -5)
      return { id, metadata: JSON.parse(readFileSync(path.join(dir, name), 'utf8')), eml: readFileSync(path.join(dir, `${id}.eml`), 'utf8') }
    })
}

export async function waitUntil(check: () => boolean, what: string, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`)
    await delay(100)
  }
}
