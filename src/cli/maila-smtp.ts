// SMTP delivery for `mailgw maila`: one transaction with nodemailer's SMTP client. STARTTLS is used
// when the server offers it, without certificate verification, as MTAs deliver to each other and
// as the gateway's self-signed certificate on loopback requires.

import { promises as dns } from 'node:dns'

import SMTPConnection from 'nodemailer/lib/smtp-connection'

import { partitionByRoute, describeTarget, type RouteRule, type RouteTarget } from '../route/forward'

export interface SmtpTarget {
  host: string
  port: number
}

export interface SmtpEnvelope {
  /** Envelope sender; empty for the null sender. */
  from: string
  to: string[]
}

const TIMEOUT_MS = 60000

/** Sends one message; resolves with the server's final reply, rejects with the SMTP error. */
export function sendOverSmtp(target: SmtpTarget, envelope: SmtpEnvelope, content: Buffer, heloName: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const connection = new SMTPConnection({
      host: target.host,
      port: target.port,
      name: heloName,
      opportunisticTLS: true,
      tls: { rejectUnauthorized: false },
      connectionTimeout: TIMEOUT_MS,
      greetingTimeout: TIMEOUT_MS,
      socketTimeout: TIMEOUT_MS,
    })
    let settled = false
    const finish = (err: Error | null, reply?: string) => {
      if (settled) return
      settled = true
      connection.quit()
      if (err) reject(err)
      else resolve(reply ?? '')
    }
    connection.on('error', (err: Error) => finish(err))
    connection.connect((err) => {
      if (err) return finish(err)
      connection.send({ from: envelope.from, to: envelope.to }, content, (sendErr, info) => {
        if (sendErr) return finish(sendErr)
        if (info.rejected.length > 0) return finish(new Error(`recipients rejected: ${info.rejected.join(', ')}`))
        finish(null, info.response)
      })
    })
  })
}

export interface RouteDelivery {
  route: string
  recipients: string[]
  reply?: string
  error?: string
}

/**
 * Delivers a message to its recipients' next hops by ForwardRoute, as the outbound queue would but
 * without queueing: a next hop that fails is reported, not retried.
 */
export async function deliverByRoute(routes: readonly RouteRule[], envelope: SmtpEnvelope, content: Buffer, heloName: string): Promise<RouteDelivery[]> {
  const results: RouteDelivery[] = []
  for (const part of partitionByRoute(routes, envelope.to, (a) => a)) {
    const result: RouteDelivery = { route: describeTarget(part.target), recipients: part.recipients }
    try {
      result.reply = await deliverToTarget(part.target, { from: envelope.from, to: part.recipients }, content, heloName)
    } catch (err) {
      result.error = (err as Error).message
    }
    results.push(result)
  }
  return results
}

async function deliverToTarget(target: RouteTarget, envelope: SmtpEnvelope, content: Buffer, heloName: string): Promise<string> {
  if (target.kind === 'host') return sendOverSmtp({ host: target.host, port: target.port }, envelope, content, heloName)

  const hosts = await mxHosts(target.domain)
  let last: Error = new Error(`no MX hosts found for ${target.domain}`)
  for (const host of hosts) {
    try {
      return await sendOverSmtp({ host, port: 25 }, envelope, content, heloName)
    } catch (err) {
      last = err as Error
      // A permanent rejection applies to the whole domain, so another MX would reject it too.
      if ((err as SMTPConnection.SMTPError).responseCode && ((err as SMTPConnection.SMTPError).responseCode ?? 0) >= 500) break
    }
  }
  throw last
}

async function mxHosts(domain: string): Promise<string[]> {
  try {
    const records = await dns.resolveMx(domain)
    if (records.length > 0) return records.sort((a, b) => a.priority - b.priority).map((r) => r.exchange)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENODATA' && (err as NodeJS.ErrnoException).code !== 'ENOTFOUND') throw err
  }
  // RFC 5321 section 5.1: without MX records the domain itself is the mail host.
  return [domain]
}
