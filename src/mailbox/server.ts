// A small downstream SMTP server: the "organisation's mail server" of the embedded default setup,
// and the sink of end-to-end tests. It accepts every envelope, and for each message either writes
// it as an .eml file (Return-Path and Delivered-To prepended, as a local delivery agent does) or
// hands it to a callback, or both. Files are written to a temporary name, fsynced and renamed, so
// a reader never sees half a message. The 250 reply is sent only after the rename.

import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { SMTPServer, type SMTPServerSession } from 'smtp-server'

export interface ReceivedMessage {
  from: string
  to: string[]
  /** The message exactly as received (dot-unstuffed, CRLF line ends as sent). */
  raw: Buffer
  clientAddress: string
  heloName: string
  receivedAt: Date
  file?: string
}

export interface MailboxOptions {
  host: string
  port: number
  /** Directory for .eml files; without it nothing is written to disk. */
  dir?: string
  hostname?: string
  onMessage?: (msg: ReceivedMessage) => void
  /** Reply to give instead of accepting, for tests of temporary and permanent failures. */
  reject?: (envelope: { from: string; to: string[] }) => { code: number; message: string } | null
}

export interface Mailbox {
  host: string
  port: number
  close(): Promise<void>
}

export async function startMailbox(opts: MailboxOptions): Promise<Mailbox> {
  if (opts.dir) await fs.mkdir(opts.dir, { recursive: true })

  const server = new SMTPServer({
    name: opts.hostname ?? 'mailbox.localhost',
    banner: 'haraka-mailgw local mailbox',
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    size: 0,
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('error', (err) => callback(err))
      stream.on('end', () => {
        deliver(opts, session, Buffer.concat(chunks))
          .then(() => callback())
          .catch((err: Error) => callback(Object.assign(new Error(`mailbox write failed: ${err.message}`), { responseCode: 451 })))
      })
    },
    onRcptTo(address, session, callback) {
      const verdict = opts.reject?.({
        from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        to: [address.address],
      })
      if (verdict) return callback(Object.assign(new Error(verdict.message), { responseCode: verdict.code }))
      callback()
    },
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  server.on('error', () => {
    // smtp-server emits client socket errors here; a dropped client is not a mailbox failure.
  })

  return {
    host: opts.host,
    port: opts.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

async function deliver(opts: MailboxOptions, session: SMTPServerSession, raw: Buffer): Promise<void> {
  const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : ''
  const to = session.envelope.rcptTo.map((r) => r.address)
  const msg: ReceivedMessage = {
    from,
    to,
    raw,
    clientAddress: session.remoteAddress,
    heloName: session.hostNameAppearsAs,
    receivedAt: new Date(),
  }

  if (opts.dir) msg.file = await writeMessageFile(opts.dir, msg)
  opts.onMessage?.(msg)
}

async function writeMessageFile(dir: string, msg: ReceivedMessage): Promise<string> {
  const stamp = msg.receivedAt.toISOString().replace(/[-:]/g, '').replace(/\..*/, '')
  const name = `${stamp}-${randomBytes(6).toString('hex')}.eml`
  const trace = [`Return-Path: <${msg.from}>`, ...msg.to.map((r) => `Delivered-To: ${r}`)].join('\r\n') + '\r\n'

  const tmp = path.join(dir, `.${name}.tmp`)
  const final = path.join(dir, name)
  const handle = await fs.open(tmp, 'wx', 0o640)
  try {
    await handle.writeFile(Buffer.concat([Buffer.from(trace), msg.raw]))
    await handle.sync()
  } finally {
    await handle.close()
  }
  await fs.rename(tmp, final)
  return final
}
