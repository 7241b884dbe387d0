import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'

import { rspamdSigns } from '../../src/antispam/rspamd'
import { EngineUnavailableError, type MessageContext } from '../../src/pipeline/engines'

const CONTEXT: MessageContext = {
  transactionId: 'T1',
  mailFrom: 'a@outside.example',
  recipients: ['b@corp.example', 'c@corp.example'],
  clientIp: '192.0.2.1',
  clientHost: null,
  helo: 'client.example',
}

// A local HTTP server plays rspamd's /checkv2: each test sets the response, and the requests are recorded.
describe('rspamdSigns over HTTP', () => {
  let server: http.Server
  let url = ''
  let answer: (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void = () => undefined
  const seen: { headers: http.IncomingHttpHeaders; rawHeaders: string[]; body: Buffer; socket: unknown }[] = []

  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const body = Buffer.concat(chunks)
        seen.push({ headers: req.headers, rawHeaders: req.rawHeaders, body, socket: req.socket })
        answer(req, res, body)
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(() => {
    server.closeAllConnections()
    server.close()
  })

  it('sends the envelope and turns the score into a sign', async () => {
    answer = (_req, res) => res.end(JSON.stringify({ score: 7.5, symbols: { BAYES_SPAM: { score: 5 }, R_DKIM_NA: { score: 0 }, MANY: { score: 2.5 } } }))
    const signs = await rspamdSigns(Buffer.from('Subject: x\r\n\r\nbody\r\n'), CONTEXT, { url, timeoutMs: 2000 })
    assert.equal(signs.length, 1)
    assert.equal(signs[0].weight, 7.5)
    assert.match(signs[0].detail, /^score 7\.5: BAYES_SPAM\(5\.0\) MANY\(2\.5\)$/)
    const request = seen[seen.length - 1]
    assert.equal(request.body.toString(), 'Subject: x\r\n\r\nbody\r\n')
    assert.equal(request.headers.from, 'a@outside.example')
    assert.deepEqual(request.rawHeaders.filter((_, i, all) => i % 2 === 1 && all[i - 1] === 'Rcpt'), ['b@corp.example', 'c@corp.example'])
    assert.equal(request.headers.helo, 'client.example')
  })

  it('reuses the connection for the next message', async () => {
    answer = (_req, res) => res.end('{"score":0,"symbols":{}}')
    await rspamdSigns(Buffer.from('a\r\n'), CONTEXT, { url, timeoutMs: 2000 })
    await rspamdSigns(Buffer.from('b\r\n'), CONTEXT, { url, timeoutMs: 2000 })
    assert.equal(seen[seen.length - 1].socket, seen[seen.length - 2].socket)
  })

  it('reports an HTTP error as the engine being unavailable', async () => {
    answer = (_req, res) => {
      res.statusCode = 500
      res.end('broken')
    }
    await assert.rejects(rspamdSigns(Buffer.from('x\r\n'), CONTEXT, { url, timeoutMs: 2000 }), (err: unknown) => err instanceof EngineUnavailableError && /HTTP 500: broken/.test(err.message))
  })

  it('gives up after the timeout', async () => {
    answer = () => undefined
    const started = Date.now()
    await assert.rejects(rspamdSigns(Buffer.from('x\r\n'), CONTEXT, { url, timeoutMs: 300 }), (err: unknown) => err instanceof EngineUnavailableError && /timed out after 300 ms/.test(err.message))
    assert.ok(Date.now() - started < 2000)
  })

  it('reports a refused connection', async () => {
    await assert.rejects(rspamdSigns(Buffer.from('x\r\n'), CONTEXT, { url: 'http://127.0.0.1:1', timeoutMs: 2000 }), (err: unknown) => err instanceof EngineUnavailableError && /ECONNREFUSED/.test(err.message))
  })
})
