// A test SMTP sink: the real mailbox server on a loopback port, collecting messages in memory.

import { startMailbox, type Mailbox, type ReceivedMessage } from '../../src/mailbox/server'

export interface Sink {
  port: number
  messages: ReceivedMessage[]
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMessage[]>
  close(): Promise<void>
}

export async function startSink(port: number): Promise<Sink> {
  const messages: ReceivedMessage[] = []
  const waiters = new Set<() => void>()
  const mailbox: Mailbox = await startMailbox({
    host: '127.0.0.1',
    port,
    onMessage: (m) => {
      messages.push(m)
      for (const w of waiters) w()
    },
  })
  return {
    port,
    messages,
    waitFor(count, timeoutMs = 30000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (messages.length >= count) {
            waiters.delete(check)
            clearTimeout(timer)
            resolve(messages.slice(0, count))
          }
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`sink on port ${port} got ${messages.length} of ${count} messages within ${timeoutMs} ms`))
        }, timeoutMs)
        waiters.add(check)
        check()
      })
    },
    close: () => mailbox.close(),
  }
}
