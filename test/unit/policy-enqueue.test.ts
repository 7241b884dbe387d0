import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { Address } from '@haraka/email-address'

import { copySource } from '../../plugins/mailgw_policy/copies'
import { enqueueCopies, type OutboundCopy } from '../../plugins/mailgw_policy/enqueue'
import type { RouteRule } from '../../src/route/forward'

/** Builds an outbound module whose writes finish after a delay and fail for one domain. */
function fakeOutbound(failDomain: string | null) {
  const pushed: unknown[] = []
  const outbound = {
    TODOItem: class {
      uuid = ''
      mail_from: Haraka.Address
      notes: Record<string, unknown> = {}
      queue_time = 0
      constructor(
        public domain: string,
        public rcpt_to: Haraka.Address[],
        source: { mail_from: Haraka.Address },
      ) {
        this.mail_from = source.mail_from
      }
    },
    async process_delivery(okPaths: string[], todo: Haraka.TodoItem, hmails: unknown[]) {
      await new Promise((r) => setTimeout(r, todo.domain === failDomain ? 5 : 20))
      if (todo.domain === failDomain) throw 'Queueing failed'
      okPaths.push(`/queue/${todo.uuid}`)
      hmails.push(todo.uuid)
    },
    delivery_queue: { push: (hmail: unknown) => pushed.push(hmail) },
  }
  return { outbound, pushed }
}

function copy(uuid: string, recipients: string[]): OutboundCopy {
  const mailFrom = new Address('<a@outside.example>')
  const notes = { copy: uuid }
  return { transaction: copySource(uuid, mailFrom, [Buffer.from('Subject: x\r\n\r\nbody\r\n')], notes), mailFrom, recipients: recipients.map((r) => new Address(`<${r}>`)), notes }
}

describe('enqueueCopies', () => {
  const routes: RouteRule[] = [{ mask: '*@sales.example', target: { kind: 'host', host: '127.0.0.1', port: 2526 } }]

  it('queues every copy and hands all files to delivery', async () => {
    const { outbound, pushed } = fakeOutbound(null)
    const queued = await enqueueCopies(outbound, routes, [copy('m.1', ['b@corp.example']), copy('m.2', ['d@sales.example'])], async () => undefined)
    assert.deepEqual(queued.map((q) => q.uuid), ['m.1.1', 'm.2.2'])
    assert.deepEqual([...pushed].sort(), ['m.1.1', 'm.2.2'])
  })

  it('removes every written file when one write fails', async () => {
    const { outbound, pushed } = fakeOutbound('sales.example')
    const removed: string[] = []
    const copies = [copy('m.1', ['b@corp.example']), copy('m.2', ['d@sales.example']), copy('m.3', ['e@other.example'])]
    await assert.rejects(enqueueCopies(outbound, routes, copies, async (file) => void removed.push(file)), /outbound queue write failed: Queueing failed/)
    assert.deepEqual(removed.sort(), ['/queue/m.1.1', '/queue/m.3.3'])
    assert.deepEqual(pushed, [], 'nothing is handed to delivery')
  })
})
