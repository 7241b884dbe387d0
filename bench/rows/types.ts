// Benchmark rows: each is a mail path under test that listens on a loopback port and delivers
// to the shared smtp-sink.

import type { Component } from '../lib/procs'

export interface SharedServices {
  sinkPort: number
  /** HOST:PORT of the benchmark's clamd, when it could be started. */
  clamd: { address: string; pid: number } | null
  /** Port of the loopback DNS server of the full-policy row, when it could be started. */
  dnsPort: number | null
  /** rspamd for the full-policy row's content check, when installed and started. */
  rspamd: { url: string; pid: number } | null
  packageRoot: string
  /** A scratch directory for this row, removed after it. */
  workDir: string
  /** PEM DH parameters for Haraka's TLS, so it does not spend a core generating them at start. */
  dhparams: string
}

export interface RunningRow {
  port: number
  /** Processes of the row whose CPU and memory are reported (not the sink, which is shared). */
  components: Component[]
  stop(): Promise<void>
}

export interface Row {
  id: string
  title: string
  /** Whether the Haraka worker count applies to this row. */
  usesWorkers: boolean
  /** Deliveries at the sink per message sent (group copies make more than one). */
  copies: number
  /** Scales the message count of a run, for rows far slower than the others. */
  loadFactor: number
  /** Returns why the row cannot run on this machine or with this code, or null when it can. */
  unavailable(services: SharedServices): Promise<string | null>
  start(services: SharedServices, workers: number): Promise<RunningRow>
}

/** Envelope of every benchmark message: two recipients, so the gateway's two groups each get one. */
export const ENVELOPE = {
  from: 'sender@client.bench.example',
  /** smtp-source -r 2 prepends 1 and 2 to this address. */
  to: 'rcpt@bench.example',
  recipients: ['1rcpt@bench.example', '2rcpt@bench.example'],
} as const
