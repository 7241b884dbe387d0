// Writes the copies of one received message into Haraka's outbound queue, all or nothing.
// Each copy is split by next hop (ForwardRoute), and each part becomes one queue file whose notes
// record its route, so get_mx never has to guess. Files are written with Haraka's own writer
// (temporary name, fsync, rename). Only when every file is on disk are they handed to the
// delivery queue; when any write fails, the files already written are removed and the error is
// raised, so the client gets a temporary failure and nothing is half-delivered.
//
// NOTE: this uses outbound's exported TODOItem, process_delivery and delivery_queue, which
// send_trans_email is built from in Haraka 3.3.4, because send_trans_email commits each call on
// its own and cannot undo an earlier copy when a later one fails.

import { partitionByRoute, type RouteRule, type RouteTarget } from '../../src/route/forward'
import type { CopySource } from './copies'

export interface OutboundCopy {
  /** Provides the id and the message (message_stream) of this copy. */
  transaction: CopySource
  mailFrom: Haraka.Address
  recipients: Haraka.Address[]
  /** Plain JSON data stored in each queue file, visible to delivery hooks as hmail.todo.notes. */
  notes: Record<string, unknown>
}

interface Outbound {
  TODOItem: new (domain: string, rcpts: Haraka.Address[], source: CopySource) => Haraka.TodoItem
  process_delivery(okPaths: string[], todo: Haraka.TodoItem, hmails: unknown[]): Promise<void>
  delivery_queue: { push(hmail: unknown): void }
}

export interface QueuedFile {
  uuid: string
  route: RouteTarget
  recipients: string[]
}

export async function enqueueCopies(
  outbound: Outbound,
  routes: readonly RouteRule[],
  copies: readonly OutboundCopy[],
  unlink: (file: string) => Promise<void>,
): Promise<QueuedFile[]> {
  const okPaths: string[] = []
  const hmails: unknown[] = []
  const queued: QueuedFile[] = []
  const todos: Haraka.TodoItem[] = []
  let index = 1

  for (const copy of copies) {
    for (const part of partitionByRoute(routes, copy.recipients, (r) => r.address)) {
      const first = part.recipients[0]
      const todo = new outbound.TODOItem(first.host.toLowerCase(), part.recipients, copy.transaction)
      todo.uuid = `${copy.transaction.uuid}.${index++}`
      todo.mail_from = copy.mailFrom
      todo.notes = { ...copy.notes, mailgw_route: part.target }
      todos.push(todo)
      queued.push({ uuid: todo.uuid, route: part.target, recipients: part.recipients.map((r) => r.address) })
    }
  }

  // The files are written at the same time, so their fsyncs overlap instead of adding up. Every
  // write is waited for before a failure is handled, so no file appears after the clean-up.
  const results = await Promise.allSettled(todos.map((todo) => outbound.process_delivery(okPaths, todo, hmails)))
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) {
    await Promise.all(okPaths.map((p) => unlink(p).catch(() => undefined)))
    const reason: unknown = failed.reason
    // process_delivery rejects with a bare string such as 'Queueing failed'.
    throw reason instanceof Error ? reason : new Error(`outbound queue write failed: ${String(reason)}`)
  }

  for (const hmail of hmails) outbound.delivery_queue.push(hmail)
  return queued
}
