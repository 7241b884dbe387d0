// `mailgw start [-c FILE] [--run-dir DIR]`: checks mailgw.conf (the same messages as
// check-config, and no start when it is invalid), then runs the gateway in the foreground until
// Ctrl-C.

import { formatConfigError, loadConfig } from '../config'
import { startGateway, waitForListeners } from '../launcher/gateway'
import { formatListen } from '../launcher/haraka-instance'
import { checkConfiguredTemplates } from '../notify/template-config'
import { parseArgs } from './args'
import type { Io } from './main'
import { defaultConfigFile, packageRoot } from './paths'

export async function runStart(args: string[], io: Io): Promise<number> {
  let parsed
  try {
    parsed = parseArgs(args, ['--run-dir'])
  } catch (err) {
    io.err(`mailgw start: ${(err as Error).message}`)
    return 2
  }

  const file = parsed.config ?? defaultConfigFile()
  const { config, errors } = loadConfig(file)
  if (!config || errors.length > 0) {
    for (const e of errors) io.err(formatConfigError(e))
    io.err(`mailgw start: not starting because ${file} is invalid`)
    return 1
  }
  const templateErrors = checkConfiguredTemplates(config)
  if (templateErrors.length > 0) {
    for (const line of templateErrors) io.err(line)
    io.err('mailgw start: not starting because a notification template is invalid; check it with mailgw tlv FILE')
    return 1
  }

  const log = (line: string) => io.out(`mailgw: ${line}`)
  let gateway
  try {
    gateway = await startGateway({ config, packageRoot: packageRoot(), runDir: parsed.flags.get('--run-dir') as string | undefined, log })
  } catch (err) {
    io.err(`mailgw start: ${(err as Error).message}`)
    return 1
  }

  let stopping = false
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return
    stopping = true
    log(`${signal} received, stopping`)
    void gateway.stop()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  try {
    await waitForListeners(config.network.ListenOn, 60000, gateway.exited)
    log(`gateway listening on ${config.network.ListenOn.map(formatListen).join(', ')} as ${config.network.Hostname}; Ctrl-C stops it`)
  } catch (err) {
    io.err(`mailgw start: ${(err as Error).message}`)
    await gateway.stop()
  }

  const code = await gateway.exited
  process.off('SIGINT', onSignal)
  process.off('SIGTERM', onSignal)
  log('stopped')
  return stopping ? 0 : code
}
