// `mailgw haraka-config [-c FILE] [--out DIR]`: writes the Haraka instance that `mailgw start`
// would run (config files derived from mailgw.conf, plugins linked) without starting it, for
// administrators who run `haraka -c DIR` under their own supervisor.

import path from 'node:path'
import { formatConfigError, loadConfig } from '../config'
import { writeHarakaInstance } from '../launcher/haraka-instance'
import { defaultRunDir } from '../launcher/gateway'
import { parseArgs } from './args'
import type { Io } from './main'
import { defaultConfigFile, packageRoot } from './paths'

export async function runHarakaConfig(args: string[], io: Io): Promise<number> {
  let parsed
  try {
    parsed = parseArgs(args, ['--out'])
  } catch (err) {
    io.err(`mailgw haraka-config: ${(err as Error).message}`)
    return 2
  }

  const { config, errors } = loadConfig(parsed.config ?? defaultConfigFile())
  if (!config || errors.length > 0) {
    for (const e of errors) io.err(formatConfigError(e))
    return 1
  }

  const runDir = path.resolve((parsed.flags.get('--out') as string | undefined) ?? defaultRunDir(config))
  await writeHarakaInstance(config, { runDir, pluginsDir: path.join(packageRoot(), 'plugins') })
  io.out(`Haraka instance written to ${runDir}; run it with: MAILGW_CONFIG=${config.file} haraka -c ${runDir}`)
  return 0
}
