// Builds the Haraka transaction that carries one virtual copy: a fresh transaction whose message
// source holds only this copy's bytes, so edits to one copy never reach another. Lines are added
// the way Haraka stores received data (CRLF line ends, dot-stuffed), which is what the outbound
// queue writer expects when it pipes message_stream with dot_stuffed: false.

interface TransactionModule {
  createTransaction(uuid: string, cfg: unknown): Haraka.Transaction
}

const LF = 0x0a
const CR = 0x0d
const DOT = 0x2e

export async function createCopyTransaction(
  transactions: TransactionModule,
  original: Haraka.Transaction,
  uuid: string,
  content: Buffer,
  recipients: Haraka.Address[],
  notes: Record<string, unknown>,
): Promise<Haraka.Transaction> {
  // The original's cfg carries the spooling settings (spool_dir, spool_after) of this server.
  const txn = transactions.createTransaction(uuid, (original as unknown as { cfg?: unknown }).cfg ?? {})
  txn.mail_from = original.mail_from
  txn.rcpt_to = recipients
  Object.assign(txn.notes, notes)

  for (const chunk of wireChunks(content)) txn.add_data(chunk)
  await new Promise<void>((resolve) => txn.end_data(() => resolve()))
  return txn
}

/**
 * Splits a message for Transaction.add_data: the header lines one by one up to the empty line,
 * because Haraka parses the header from them, then the whole body as one dot-stuffed CRLF chunk.
 * Haraka passes body data to message_stream unchanged when parse_body is off (as on these
 * transactions), and one chunk spares a Buffer object per body line for large messages.
 */
export function wireChunks(content: Buffer): Buffer[] {
  const lines = wireLines(headerPart(content))
  const separator = lines.findIndex((l) => l.length === 2)
  if (separator === -1) return wireLines(content)

  const bodyStart = content.length - bodyLength(content)
  const body = content.subarray(bodyStart)
  if (body.length === 0) return lines
  const text = body.toString('latin1').replace(/\r?\n/g, '\r\n').replace(/(^|\r\n)\./g, '$1..')
  const ending = text.endsWith('\r\n') ? '' : '\r\n'
  return [...lines, Buffer.from(text + ending, 'latin1')]
}

/** The header block and its empty line, or the whole message when it has no empty line. */
function headerPart(content: Buffer): Buffer {
  return content.subarray(0, content.length - bodyLength(content))
}

function bodyLength(content: Buffer): number {
  const match = /\r?\n\r?\n/.exec(content.subarray(0, Math.min(content.length, 1 << 20)).toString('latin1'))
  if (!match) return 0
  return content.length - (match.index + match[0].length)
}

/** Splits a message into CRLF-terminated, dot-stuffed lines. */
export function wireLines(content: Buffer): Buffer[] {
  const lines: Buffer[] = []
  let start = 0
  while (start < content.length) {
    const lf = content.indexOf(LF, start)
    const end = lf === -1 ? content.length : lf + 1
    let body = content.subarray(start, lf === -1 ? end : lf)
    if (body.length > 0 && body[body.length - 1] === CR) body = body.subarray(0, body.length - 1)
    const stuffed = body.length > 0 && body[0] === DOT
    lines.push(Buffer.concat([stuffed ? Buffer.from('.') : Buffer.alloc(0), body, Buffer.from('\r\n')]))
    start = end
  }
  return lines
}
