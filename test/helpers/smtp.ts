// A plain SMTP client for tests: sends one command at a time and returns the full reply, so a
// test can assert each reply code and enhanced status, e.g. rcpt('x@y') -> 550 5.7.1.

import net from 'node:net'

export interface Reply {
  code: number
  lines: string[]
  text: string
  /** Enhanced status code (RFC 3463) of the first line, when there is one. */
  enhanced: string | null
}

export class SmtpClient {
  private buffer = ''
  private waiters: Array<(r: Reply) => void> = []
  private replies: Reply[] = []
  private closedError: Error | null = null

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => this.onData(chunk))
    socket.on('close', () => {
      this.closedError = new Error('connection closed by server')
      for (const w of this.waiters.splice(0)) w({ code: 0, lines: [], text: 'closed', enhanced: null })
    })
    socket.on('error', () => undefined)
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<{ client: SmtpClient; greeting: Reply }> {
    const socket = net.connect({ host, port })
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    const client = new SmtpClient(socket)
    const greeting = await client.read()
    return { client, greeting }
  }

  private onData(chunk: string): void {
    this.buffer += chunk
    for (;;) {
      const lines: string[] = []
      let rest = this.buffer
      let done = false
      for (;;) {
        const nl = rest.indexOf('\n')
        if (nl < 0) break
        const line = rest.slice(0, nl).replace(/\r$/, '')
        rest = rest.slice(nl + 1)
        lines.push(line)
        if (/^\d{3}( |$)/.test(line)) {
          done = true
          break
        }
      }
      if (!done) return
      this.buffer = rest
      const code = Number(lines[0].slice(0, 3))
      const text = lines.map((l) => l.slice(4)).join('\n')
      const enhanced = /^\d\.\d{1,3}\.\d{1,3}/.exec(lines[0].slice(4))?.[0] ?? null
      const reply = { code, lines, text, enhanced }
      const waiter = this.waiters.shift()
      if (waiter) waiter(reply)
      else this.replies.push(reply)
    }
  }

  read(timeoutMs = 30000): Promise<Reply> {
    const queued = this.replies.shift()
    if (queued) return Promise.resolve(queued)
    if (this.closedError) return Promise.resolve({ code: 0, lines: [], text: 'closed', enhanced: null })
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no SMTP reply within ${timeoutMs} ms`)), timeoutMs)
      this.waiters.push((r) => {
        clearTimeout(timer)
        resolve(r)
      })
    })
  }

  async command(line: string, timeoutMs?: number): Promise<Reply> {
    this.socket.write(`${line}\r\n`)
    return this.read(timeoutMs)
  }

  /** Sends message data (CRLF line ends expected) with dot-stuffing and the final dot. */
  async data(message: string | Buffer, timeoutMs?: number): Promise<Reply> {
    const text = Buffer.isBuffer(message) ? message.toString('latin1') : message
    const stuffed = text.replace(/(^|\r\n)\./g, '$1..')
    const ending = stuffed.endsWith('\r\n') ? '' : '\r\n'
    this.socket.write(Buffer.from(`${stuffed}${ending}.\r\n`, 'latin1'))
    return this.read(timeoutMs)
  }

  close(): void {
    this.socket.end('QUIT\r\n')
    this.socket.destroySoon?.()
  }
}

export interface SendResult {
  greeting: Reply
  mail: Reply
  rcpts: Reply[]
  data?: Reply
  final?: Reply
}

/** Runs one whole SMTP transaction and returns every reply; stops early when DATA is refused. */
export async function sendMail(opts: {
  port: number
  from: string
  to: string[]
  message: string | Buffer
  helo?: string
  xclientAddr?: string
}): Promise<SendResult> {
  const { client, greeting } = await SmtpClient.connect(opts.port)
  try {
    let ehlo = await client.command(`EHLO ${opts.helo ?? 'client.test'}`)
    if (opts.xclientAddr) {
      const x = await client.command(`XCLIENT ADDR=${opts.xclientAddr}`)
      if (x.code !== 220) throw new Error(`XCLIENT refused: ${x.code} ${x.text}`)
      ehlo = await client.command(`EHLO ${opts.helo ?? 'client.test'}`)
    }
    if (ehlo.code !== 250) throw new Error(`EHLO refused: ${ehlo.code} ${ehlo.text}`)
    const mail = await client.command(`MAIL FROM:<${opts.from}>`)
    const rcpts: Reply[] = []
    for (const r of opts.to) rcpts.push(await client.command(`RCPT TO:<${r}>`))
    if (mail.code !== 250 || !rcpts.some((r) => r.code === 250)) return { greeting, mail, rcpts }
    const data = await client.command('DATA')
    if (data.code !== 354) return { greeting, mail, rcpts, data }
    const final = await client.data(opts.message, 120000)
    return { greeting, mail, rcpts, data, final }
  } finally {
    client.close()
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo
      srv.close(() => resolve(port))
    })
  })
}
