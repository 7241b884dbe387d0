// The services every row shares: the smtp-sink that receives all deliveries, a private clamd with
// the bundled signatures, and a loopback DNS server with answers for the benchmark's names.

import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { startClamd } from '../../src/av/clamd-service'
import { startTestDns, type TestDns } from '../../test/helpers/dns'
import { startTestRspamd, type TestRspamd } from '../../test/helpers/rspamd'
import { freePort } from '../../test/helpers/smtp'
import { trackPid } from './children'
import { startSmtpSink } from './postfix-tools'
import type { SharedServices } from '../rows/types'

const PACKAGE_ROOT = path.resolve(__dirname, '..', '..', '..')

/** Starts the shared services; clamd or the DNS server that fail to start are logged and left null. */
export async function startServices(workDir: string, log: (s: string) => void): Promise<{ services: SharedServices; stop: () => Promise<void>; sinkCount: () => number; sink: Awaited<ReturnType<typeof startSmtpSink>> }> {
  const sinkPort = await freePort()
  const sink = await startSmtpSink(sinkPort, path.join(workDir, 'smtp-sink.log'))
  let clamd: Awaited<ReturnType<typeof startClamd>> | null = null
  try {
    clamd = await startClamd({ stateDir: path.join(workDir, 'clamd'), socket: { tcp: { host: '127.0.0.1', port: await freePort() } } })
    trackPid(clamd.pid)
  } catch (err) {
    log(`NOTE: clamd did not start, so the clamd rows are skipped: ${err instanceof Error ? err.message : String(err)}`)
  }
  let dns: TestDns | null = null
  try {
    dns = await startTestDns()
  } catch (err) {
    log(`NOTE: the loopback DNS server did not start: ${err instanceof Error ? err.message : String(err)}`)
  }
  // The anti-spam DNS checks get answers for the benchmark names: the client is not listed, the
  // sender domain has an MX and an SPF record that permits loopback.
  dns?.set('client.bench.example', { A: ['127.0.0.1'], MX: [{ exchange: 'client.bench.example', priority: 10 }], TXT: ['v=spf1 ip4:127.0.0.0/8 -all'] })
  dns?.reverse('127.0.0.1', 'client.bench.example')
  // rspamd queries the same loopback DNS server, so its checks stay on the machine as well.
  let rspamd: TestRspamd | null = null
  if (dns) {
    try {
      rspamd = await startTestRspamd(`127.0.0.1:${dns.port}`)
      if (rspamd) trackPid(rspamd.pid)
      else log('NOTE: rspamd is not installed, so the full-policy row uses the built-in anti-spam engine only.')
    } catch (err) {
      log(`NOTE: rspamd did not start, so the full-policy row uses the built-in anti-spam engine only: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
  const dhparams = execFileSync('openssl', ['dhparam', '-dsaparam', '2048'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString()
  return {
    services: { sinkPort, clamd: clamd ? { address: clamd.address, pid: clamd.pid } : null, dnsPort: dns?.port ?? null, rspamd: rspamd ? { url: rspamd.url, pid: rspamd.pid } : null, packageRoot: PACKAGE_ROOT, workDir, dhparams },
    sink,
    sinkCount: () => sink.count(),
    stop: async () => {
      await clamd?.stop()
      await rspamd?.stop()
      await dns?.close()
      await sink.stop()
    },
  }
}
