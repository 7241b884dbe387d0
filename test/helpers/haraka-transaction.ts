// Haraka's own Transaction, for unit tests of code that reads or feeds its message stream.

import { createRequire } from 'node:module'

export type HarakaTransaction = Haraka.Transaction & { add_data(line: Buffer): void; end_data(cb: () => void): void }

const load = createRequire(__filename)

/** Creates a transaction whose message stream spools to `spoolDir` from `spoolAfter` bytes on (-1: never). */
export function createHarakaTransaction(uuid: string, spoolDir: string, spoolAfter: number): HarakaTransaction {
  const transactions = load('Haraka/transaction') as { createTransaction(uuid: string, cfg: unknown): HarakaTransaction }
  return transactions.createTransaction(uuid, { main: { spool_dir: spoolDir, spool_after: spoolAfter } })
}
