// The rspamd content engine: sends the message to rspamd's HTTP /checkv2 with the envelope, the
// client and the HELO name, and turns the answer into signs. rspamd's score becomes one sign
// worth that many points (only its positive part); its symbols are listed in the sign's detail,
// highest scores first. A GTUBE symbol is decisive. rspamd unreachable, timing out or answering
// with an error is EngineUnavailableError: the client gets a temporary failure and retries, since
// a message without its content check must not read as clean.

import http from 'node:http'
import https from 'node:https'

import { EngineUnavailableError, type MessageContext } from '../pipeline/engines'
import { decisiveSign, sign, type Sign } from './signs'

export interface RspamdOptions {
  /** Base URL, e.g. http://127.0.0.1:11333. */
  url: string
  timeoutMs: number
}

interface RspamdSymbol {
  name?: string
  score?: number
}

interface RspamdReply {
  score?: number
  required_score?: number
  action?: string
  symbols?: Record<string, RspamdSymbol>
  error?: string
}

/** Symbols listed in the sign's detail; the rest are only counted. */
const SYMBOLS_SHOWN = 6

export async function rspamdSigns(raw: Buffer, context: MessageContext, options: RspamdOptions): Promise<Sign[]> {
  const reply = await askRspamd(raw, context, options)
  const symbols = Object.entries(reply.symbols ?? {}).map(([name, symbol]) => ({ name, score: symbol.score ?? 0 }))
  if (symbols.some((s) => s.name === 'GTUBE')) return [decisiveSign('GTUBE', 'rspamd', 'rspamd symbol GTUBE')]

  const score = reply.score ?? 0
  const scoring = symbols.filter((s) => s.score > 0).sort((a, b) => b.score - a.score)
  if (score <= 0 || scoring.length === 0) return []

  const shown = scoring.slice(0, SYMBOLS_SHOWN).map((s) => `${s.name}(${s.score.toFixed(1)})`)
  if (scoring.length > SYMBOLS_SHOWN) shown.push(`+${scoring.length - SYMBOLS_SHOWN} more`)
  return [sign('rspamd', 'rspamd', Math.round(score * 10) / 10, `score ${score.toFixed(1)}: ${shown.join(' ')}`)]
}

// node:http with a keep-alive agent, not fetch: on this path fetch cost about a twentieth of the
// worker's time per message in the full-policy benchmark profile (undici's streams and errors).
const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) }

async function askRspamd(raw: Buffer, context: MessageContext, options: RspamdOptions): Promise<RspamdReply> {
  const url = new URL('/checkv2', options.url)
  const headers: http.OutgoingHttpHeaders = {
    'Content-Type': 'message/rfc822',
    'Content-Length': raw.length,
    'Queue-Id': context.transactionId,
    IP: context.clientIp,
    From: context.mailFrom === '' ? '<>' : context.mailFrom,
    Rcpt: [...context.recipients],
  }
  if (context.helo) headers.Helo = context.helo
  if (context.clientHost) headers.Hostname = context.clientHost

  let response: { status: number; body: string }
  try {
    response = await post(url, headers, raw, options.timeoutMs)
  } catch (err) {
    throw new EngineUnavailableError('rspamd', `request to ${url.href} failed: ${(err as Error).message}; check that rspamd runs and RspamdUrl`, { cause: err })
  }
  if (response.status < 200 || response.status > 299) {
    throw new EngineUnavailableError('rspamd', `${url.href} returned HTTP ${response.status}: ${response.body.slice(0, 200)}`)
  }
  try {
    const reply = JSON.parse(response.body) as RspamdReply
    if (reply.error) throw new Error(reply.error)
    return reply
  } catch (err) {
    throw new EngineUnavailableError('rspamd', `${url.href} returned an unusable reply: ${(err as Error).message}`)
  }
}

function post(url: URL, headers: http.OutgoingHttpHeaders, body: Buffer, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:'
    const request = (secure ? https : http).request(url, { method: 'POST', headers, agent: secure ? agents.https : agents.http }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () => {
        clearTimeout(timer)
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') })
      })
      response.on('error', fail)
    })
    const timer = setTimeout(() => request.destroy(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs)
    function fail(err: Error): void {
      clearTimeout(timer)
      reject(err)
    }
    request.on('error', fail)
    request.end(body)
  })
}
