// Stock Haraka, the same version as the gateway, with none of our plugins: Haraka's relay plugin
// marks loopback clients as relaying, so Haraka queues every message in its outbound queue, and
// queue/smtp_forward's get_mx routes bench.example to the sink. Its configuration files are in
// bench/stock-haraka/config; the listen address, workers and sink port are filled in here.

import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { freePort } from '../../test/helpers/smtp'
import { startListening } from './haraka-process'
import type { Row } from './types'

function harakaBin(): string {
  return path.join(path.dirname(require.resolve('Haraka/package.json')), 'bin', 'haraka')
}

export const stockHarakaRow: Row = {
  id: 'stock-haraka',
  title: 'stock Haraka 3.3.4 relay (outbound queue)',
  usesWorkers: true,
  copies: 1,
  loadFactor: 1,
  unavailable: async () => null,

  async start(services, workers) {
    const port = await freePort()
    const dir = path.join(services.workDir, 'stock-haraka')
    const template = path.join(services.packageRoot, 'bench', 'stock-haraka', 'config')
    cpSync(template, path.join(dir, 'config'), { recursive: true })
    mkdirSync(path.join(dir, 'queue'), { recursive: true })

    const fill = (name: string) => {
      const file = path.join(dir, 'config', name)
      const text = readFileSync(file, 'utf8')
        .replace(/%PORT%/g, String(port))
        .replace(/%WORKERS%/g, String(workers))
        .replace(/%SINK_PORT%/g, String(services.sinkPort))
      writeFileSync(file, text)
    }
    fill('smtp.ini')
    fill('smtp_forward.ini')
    writeFileSync(path.join(dir, 'config', 'queue_dir'), path.join(dir, 'queue') + '\n')
    writeFileSync(path.join(dir, 'config', 'dhparams.pem'), services.dhparams)
    // Haraka's connect code needs connection.ini's [message] section even with a partial config.
    const harakaConfig = path.join(path.dirname(require.resolve('Haraka/package.json')), 'config')
    cpSync(path.join(harakaConfig, 'connection.ini'), path.join(dir, 'config', 'connection.ini'))

    const haraka = await startListening(process.execPath, [harakaBin(), '-c', dir], port, path.join(services.workDir, 'stock-haraka.log'))
    return {
      port,
      components: [{ name: 'haraka', pids: () => [haraka.child.pid as number] }],
      stop: () => haraka.stop(),
    }
  },
}
