// DATA stage: from DATA on, the data termination timeout applies and message lines past
// MaximalIncomingMessageSize are no longer stored (Haraka's own size limit is off, because its
// replies carry no enhanced status code). At the end of data: the message size (552 5.3.4), the
// number of header lines (552 5.3.4), the Received count (554 5.4.6) and the session size
// (452 4.3.4).

import { constants, type HookResult } from '../shared/plugin'
import { gatewayConfig } from '../shared/runtime'
import { renewSession } from './connect'
import { logDecision, reply, sessionState, setClientTimeout, transactionState } from './session'

const TERMINATOR_BYTES = 3
/** Haraka's default of connection.ini [headers] max_lines. */
const HARAKA_MAX_HEADER_LINES = 1000

export async function startData(plugin: Haraka.Plugin, connection: Haraka.Connection): Promise<HookResult> {
  const config = gatewayConfig()
  const txn = connection.transaction
  renewSession(plugin, connection)
  setClientTimeout(connection, config.timeouts.ReceivingDataTerminationTimeout)
  if (!txn) return

  // Haraka adds each line's length to data_bytes before it calls add_data, so the size is
  // counted in full while nothing past the limit is kept in memory or in the spool file.
  const tstate = transactionState(txn)
  const limit = config.limits.MaximalIncomingMessageSize
  const store = txn.add_data.bind(txn)
  const reader = txn as unknown as { header_pos?: number }
  txn.add_data = (line: Buffer | string) => {
    if (txn.data_bytes > limit) {
      tstate.sizeExceeded = true
      return
    }
    if (reader.header_pos === 0 && line.length > 2) tstate.headerLines++
    store(line)
  }
}

export async function checkDataPost(plugin: Haraka.Plugin, connection: Haraka.Connection): Promise<HookResult> {
  const config = gatewayConfig()
  const { limits } = config
  const state = sessionState(connection)
  const txn = connection.transaction
  setClientTimeout(connection, config.timeouts.ReceivingCommandTimeout)
  if (!txn) return

  // Haraka counts the terminating ".\r\n" into data_bytes; the message is what came before it.
  const size = Math.max(0, txn.data_bytes - TERMINATOR_BYTES)
  const sessionBytes = state.sessionBytes + size
  state.sessionBytes = sessionBytes

  if (size > limits.MaximalIncomingMessageSize || transactionState(txn).sizeExceeded) {
    logDecision(plugin, connection, {
      verdict: 'reject',
      stage: 'data',
      rule: 'MaximalIncomingMessageSize',
      reason: `message of ${size} bytes exceeds MaximalIncomingMessageSize=${limits.MaximalIncomingMessageSize}`,
    })
    return { code: constants.deny, msg: reply('messageTooBig') }
  }

  // Haraka keeps up to [headers] max_lines header lines and silently drops the rest. Without an
  // empty line after the header, body lines count too. The message would lose text, so it is rejected.
  const maxLines = Number((txn as unknown as { cfg?: { headers?: { max_lines?: unknown } } }).cfg?.headers?.max_lines) || HARAKA_MAX_HEADER_LINES
  const headerLines = transactionState(txn).headerLines
  if (headerLines > maxLines) {
    logDecision(plugin, connection, {
      verdict: 'reject',
      stage: 'data',
      rule: 'header lines',
      reason: `${headerLines} header lines exceed Haraka's [headers] max_lines=${maxLines}, and the lines past it would be lost`,
    })
    return { code: constants.deny, msg: reply('headerTooLong') }
  }

  // Haraka puts its own Received line at the top before the data arrives; it is not a hop the
  // message made before reaching us.
  const hops = Math.max(0, txn.header.get_all('Received').length - 1)
  if (hops > limits.MaximalIncomingHops) {
    logDecision(plugin, connection, {
      verdict: 'reject',
      stage: 'data',
      rule: 'MaximalIncomingHops',
      reason: `${hops} Received headers exceed MaximalIncomingHops=${limits.MaximalIncomingHops}`,
    })
    return { code: constants.deny, msg: reply('tooManyHops') }
  }

  if (sessionBytes > limits.MaximalIncomingSessionSize) {
    const alone = size > limits.MaximalIncomingSessionSize
    logDecision(plugin, connection, {
      verdict: alone ? 'reject' : 'tempfail',
      stage: 'data',
      rule: 'MaximalIncomingSessionSize',
      reason: `${sessionBytes} bytes in this session exceed MaximalIncomingSessionSize=${limits.MaximalIncomingSessionSize}`,
    })
    return alone ? { code: constants.deny, msg: reply('messageTooBig') } : { code: constants.denysoft, msg: reply('sessionTooBig') }
  }
}
