// Flow control between the client socket and Haraka's spool file. haraka-message-stream writes at
// most one chunk to the spool file for each chunk it receives, and after every 64 KiB chunk its
// file stream is full until the next 'drain'. A client that sends faster than that fills the queue
// of unwritten chunks, which reaches the whole message size on loopback. The connection is paused
// while that queue is above SPOOL_HIGH_WATER and resumed once the file has caught up.

const SPOOL_HIGH_WATER = 4 * 1024 * 1024
const SPOOL_LOW_WATER = 1024 * 1024
/** Pauses are short; a queue that stops draining must not hold the client for longer than this. */
const MAX_PAUSE_MS = 200
const POLL_MS = 2

interface SpoolingStream {
  spooling?: boolean
  buffered?: number
}

interface PausableConnection {
  transaction: Haraka.Transaction | null
  pause(): void
  resume(): void
}

export function limitSpoolBacklog(connection: PausableConnection): void {
  const txn = connection.transaction
  const target = txn as unknown as { add_data?: (line: Buffer) => void } | null
  const addData = target?.add_data
  if (!txn || !target || typeof addData !== 'function') return
  const stream = txn.message_stream as unknown as SpoolingStream
  let paused = false

  const waitForSpool = (since: number) => {
    setTimeout(() => {
      if (connection.transaction !== txn) return
      if ((stream.buffered ?? 0) > SPOOL_LOW_WATER && Date.now() - since < MAX_PAUSE_MS) return waitForSpool(since)
      paused = false
      connection.resume()
    }, POLL_MS)
  }

  target.add_data = function (this: unknown, line: Buffer): void {
    addData.call(this, line)
    if (paused || !stream.spooling || (stream.buffered ?? 0) <= SPOOL_HIGH_WATER) return
    paused = true
    connection.pause()
    waitForSpool(Date.now())
  }
}
