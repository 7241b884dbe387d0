// OutgoingSessions and MaximalOutgoingSessionsPerHost against a downstream that answers slowly and
// counts how many connections it holds at once.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { SMTPServer } from 'smtp-server'
import { startTestGateway, type TestGateway } from '../helpers/gateway'
import { freePort, sendMail } from '../helpers/smtp'

interface SlowSink {
  port: number
  maxConcurrent: number
  delivered: number
  close(): Promise<void>
}

async function startSlowSink(port: number, holdMs: number): Promise<SlowSink> {
  let open = 0
  const sink: SlowSink = { port, maxConcurrent: 0, delivered: 0, close: async () => undefined }
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onConnect(_session, callback) {
      open++
      sink.maxConcurrent = Math.max(sink.maxConcurrent, open)
      callback()
    },
    onClose() {
      open--
    },
    onData(stream, _session, callback) {
      stream.resume()
      stream.on('end', () =>
        setTimeout(() => {
          sink.delivered++
          callback()
        }, holdMs),
      )
    },
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  sink.close = () => new Promise<void>((resolve) => server.close(() => resolve()))
  return sink
}

function limitSuite(name: string, limits: string, cap: number): void {
  describe(name, () => {
    let gateway: TestGateway
    let sink: SlowSink

    before(async () => {
      sink = await startSlowSink(await freePort(), 400)
      gateway = await startTestGateway({
        conf: `
[mailgw.network]
ListenOn=127.0.0.1:%PORT%
Hostname=gw.test.example
Postmaster=admin@corp.example
ProtectedDomains=corp.example

[mailgw.forward]
ForwardRoute=* [127.0.0.1:${sink.port}]

[mailgw.limits]
${limits}

[mailgw.policy]
CheckAV=false
CheckSpam=false
`,
      })
    })

    after(async () => {
      await gateway?.stop()
      await sink?.close()
    })

    it('holds at most the cap open', async () => {
      // Sent one after another (the gateway answers at once), so six deliveries are due together.
      for (let i = 0; i < 6; i++) {
        const result = await sendMail({
          port: gateway.port,
          from: 'alice@outside.example',
          to: [`user${i}@corp.example`],
          message: `From: alice@outside.example\r\nTo: user${i}@corp.example\r\nSubject: ${i}\r\n\r\nbody\r\n`,
        })
        assert.equal(result.final?.code, 250)
      }

      const deadline = Date.now() + 30000
      while (sink.delivered < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
      assert.equal(sink.delivered, 6)
      assert.equal(sink.maxConcurrent, cap)
    })
  })
}

limitSuite('outgoing sessions per host', 'MaximalOutgoingSessionsPerHost=2', 2)
limitSuite('outgoing sessions in total', 'OutgoingSessions=3\nMaximalOutgoingSessionsPerHost=6', 3)
